"""The catalogue's sheets and columns, declared once.

Every sheet of the workbook (and every CSV file of the zip) is a ``SheetSpec``: the model it
writes, its Chinese and English names, and its columns. A ``Column`` names the model field, its
headers (Chinese, English), how a cell is read (a ``CellParser``), whether it is required, and
whether it is part of the row's natural key (``key``) or of a routing rule's matching conditions
(``match``, used to find overlapping rules). Export, import, validation, the preview and the
documentation all read these declarations, so adding a column is one line here, e.g. for a
rule's appeal type::

    Column("appeal_type", _("诉求类型"), choice(AppealType.choices, blank=True), match=True),
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from routing.appeal_types import AppealType
from routing.decisions import keyword_list
from routing.models import Bureau, BureauType, Category, DeadlinePolicy, Region, RoutingRule, TimeUnit


class CellError(ValueError):
    """A cell that cannot be read; the message is in the operator's language."""


def cell_text(raw: object) -> str:
    """A cell as text: numbers typed into Excel (440606, 440606.0) read as their digits."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


@dataclass(frozen=True)
class CellParser:
    """Reads a cell into a field value (``parse``) and writes a value back as a cell (``format``)."""

    kind: str
    parse: Callable[[object], Any]
    format: Callable[[Any], str] = cell_text
    choices: Sequence[tuple[str, Any]] = ()
    reference: str = ""  # the key of the sheet a reference column points at

    def values_hint(self) -> str:
        """The accepted values, for the template's description row and the documentation."""
        if self.choices:
            return " / ".join(f"{code}（{label}）" for code, label in self.choices)
        return ""


def text(max_length: int) -> CellParser:
    def parse(raw: object) -> str:
        value = cell_text(raw)
        if len(value) > max_length:
            raise CellError(
                gettext("内容过长：最多 %(max)d 个字符，现有 %(len)d 个。") % {"max": max_length, "len": len(value)}
            )
        return value

    return CellParser("text", parse)


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def slug(max_length: int = 50) -> CellParser:
    def parse(raw: object) -> str:
        value = cell_text(raw)
        if value and (not _SLUG.match(value) or len(value) > max_length):
            raise CellError(
                gettext("代码“%(value)s”无效：只能用英文字母、数字、连字符和下划线，最多 %(max)d 个字符。")
                % {"value": value, "max": max_length}
            )
        return value

    return CellParser("code", parse)


def division_code() -> CellParser:
    def parse(raw: object) -> str:
        value = cell_text(raw)
        if value and not re.fullmatch(r"\d{6}", value):
            raise CellError(
                gettext("行政区划代码“%(value)s”无效：应为6位数字（GB/T 2260），如 440606。") % {"value": value}
            )
        return value

    return CellParser("division_code", parse)


def integer(
    *, minimum: int = 0, optional: bool = False, default: int | None = None, duration: bool = False
) -> CellParser:
    def parse(raw: object) -> int | None:
        value = cell_text(raw)
        if not value:
            if optional or default is not None:
                return default
            raise CellError(gettext("必填，不能为空。"))
        try:
            number = int(value)
        except ValueError:
            raise CellError(gettext("“%(value)s”不是整数。") % {"value": value}) from None
        if duration and number <= 0:
            raise CellError(gettext("时限必须大于零，现为 %(value)d。") % {"value": number})
        if number < minimum:
            raise CellError(gettext("不能小于 %(min)d，现为 %(value)d。") % {"min": minimum, "value": number})
        return number

    return CellParser("integer", parse, format=lambda value: "" if value is None else str(value))


_TRUE = {"是", "true", "1", "yes", "y", "启用", "√"}
_FALSE = {"否", "false", "0", "no", "n", "停用", "×"}


def boolean(default: bool) -> CellParser:
    def parse(raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        value = cell_text(raw).lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise CellError(gettext("“%(value)s”不是“是”或“否”。") % {"value": value})

    return CellParser(
        "boolean", parse, format=lambda value: "是" if value else "否", choices=(("是", "yes"), ("否", "no"))
    )


def choice(
    choices: Sequence[tuple[str, Any]], *, blank: bool = False, default: str = "", unit: bool = False
) -> CellParser:
    """A code from ``choices``; its Chinese or English label is accepted too."""

    def parse(raw: object) -> str:
        value = cell_text(raw)
        if not value:
            if blank or default:
                return default
            raise CellError(gettext("必填，不能为空。"))
        for code, label in choices:
            if value.lower() in {str(code).lower(), str(label).lower()}:
                return str(code)
        from django.utils import translation

        with translation.override("en"):
            for code, label in choices:
                if value.lower() == str(label).lower():
                    return str(code)
        accepted = "、".join(str(code) for code, _label in choices)
        message = (
            gettext("未知的时限单位“%(value)s”，可用：%(accepted)s。")
            if unit
            else gettext("“%(value)s”不是可用的取值，可用：%(accepted)s。")
        )
        raise CellError(message % {"value": value, "accepted": accepted})

    return CellParser("choice", parse, choices=tuple(choices))


def reference(sheet: str) -> CellParser:
    """The natural key of a row of another sheet (a region's code or division code, a type's code …)."""
    return CellParser("reference", lambda raw: cell_text(raw), reference=sheet)


def keywords(max_length: int) -> CellParser:
    """Comma-separated keywords (half- or full-width commas, 、), stored as ``a,b,c``."""
    base = text(max_length)

    def parse(raw: object) -> str:
        return ",".join(keyword_list(base.parse(raw)))

    return CellParser("keywords", parse)


@dataclass(frozen=True)
class Column:
    field: str
    zh: Any  # a lazy Chinese msgid (English in the English interface)
    parser: CellParser
    required: bool = False
    key: bool = False
    match: bool = False  # one of a routing rule's matching conditions (overlap check)
    example: str = ""

    @property
    def en(self) -> str:
        return self.field

    @property
    def header(self) -> str:
        """The header written on export: ``名称 (name)``; reading accepts either half alone."""
        return f"{self.zh} ({self.field})"

    @property
    def label(self) -> str:
        return str(self.zh)


@dataclass(frozen=True)
class SheetSpec:
    key: str
    zh: Any
    model: type[models.Model]
    columns: tuple[Column, ...]
    description: Any = ""
    # How the model's natural key reads the referenced row (FK columns hold the referenced key).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The sheet's title on export (Excel allows at most 31 characters)."""
        return f"{self.zh} ({self.key})"

    @property
    def label(self) -> str:
        return str(self.zh)

    @property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key)

    @property
    def has_is_active(self) -> bool:
        return any(f.name == "is_active" for f in self.model._meta.concrete_fields)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)


def _max(model: type[models.Model], name: str) -> int:
    return int(getattr(model._meta.get_field(name), "max_length", 0) or 0)


URGENCY_CHOICES = (("normal", _("一般")), ("urgent", _("紧急")))

REGIONS = SheetSpec(
    "regions",
    _("地区"),
    Region,
    (
        Column("code", _("地区代码"), slug(), required=True, key=True, example="foshan-shunde"),
        Column("division_code", _("行政区划代码"), division_code(), example="440606"),
        Column("name", _("名称"), text(_max(Region, "name")), required=True, example="顺德区"),
        Column("name_en", _("英文名称"), text(_max(Region, "name_en")), example="Shunde"),
        Column("level", _("级别"), choice(Region.Level.choices), required=True, example="district"),
        Column("parent", _("上级地区"), reference("regions"), example="440600"),
        Column("sort_order", _("排序"), integer(default=0), example="10"),
        Column("is_active", _("启用"), boolean(True), example="是"),
    ),
    _("地级市及其区县；地区代码或行政区划代码均可在其他表中引用。"),
)

BUREAU_TYPES = SheetSpec(
    "bureau_types",
    _("部门类型"),
    BureauType,
    (
        Column("code", _("部门类型代码"), slug(), required=True, key=True, example="hrss"),
        Column("name", _("名称"), text(_max(BureauType, "name")), required=True, example="人力资源和社会保障局"),
        Column("name_en", _("英文名称"), text(_max(BureauType, "name_en")), example="Human Resources Bureau"),
        Column("duty", _("职责说明"), text(_max(BureauType, "duty"))),
    ),
    _("每个城市都有的部门种类；分拨规则指向部门类型，再落到诉求所在城市的该类承办单位。"),
)

CATEGORIES = SheetSpec(
    "categories",
    _("诉求类别"),
    Category,
    (
        Column("code", _("类别代码"), slug(), required=True, key=True, example="employment"),
        Column("name", _("名称"), text(_max(Category, "name")), required=True, example="用工招聘"),
        Column("name_en", _("英文名称"), text(_max(Category, "name_en")), example="Staffing and recruitment"),
        Column("example", _("示例"), text(_max(Category, "example")), example="招工难、员工返岗"),
        Column("example_en", _("英文示例"), text(_max(Category, "example_en"))),
        Column("default_bureau_type", _("默认承办部门类型"), reference("bureau_types"), required=True, example="hrss"),
        Column("is_other", _("为“其他”类别"), boolean(False), example="否"),
        Column("sort_order", _("排序"), integer(default=0), example="10"),
        Column("is_active", _("启用"), boolean(True), example="是"),
    ),
)

BUREAUS = SheetSpec(
    "bureaus",
    _("承办单位"),
    Bureau,
    (
        Column("region", _("地区"), reference("regions"), required=True, key=True, example="440600"),
        Column("bureau_type", _("部门类型"), reference("bureau_types"), required=True, key=True, example="hrss"),
        Column("name", _("名称"), text(_max(Bureau, "name")), required=True, example="佛山市人力资源和社会保障局"),
        Column("name_en", _("英文名称"), text(_max(Bureau, "name_en"))),
        Column("requires_review", _("答复需负责人审核"), boolean(False), example="否"),
        Column("assignment_mode", _("分配方式"), choice(Bureau.AssignmentMode.choices, default="pool"), example="pool"),
        Column("use_skills", _("按业务专长分配"), boolean(False), example="否"),
        Column("max_open_per_officer", _("每人在办上限"), integer(minimum=1, optional=True)),
        Column("contact_phone", _("对外联系电话"), text(_max(Bureau, "contact_phone"))),
        Column("contact_address", _("对外联系地址"), text(_max(Bureau, "contact_address"))),
        Column("is_active", _("启用"), boolean(True), example="是"),
    ),
    _("每个地区每种部门类型一个承办单位，以“地区 + 部门类型”识别。"),
)

RULES = SheetSpec(
    "rules",
    _("分拨规则"),
    RoutingRule,
    (
        Column(
            "name", _("规则名称"), text(_max(RoutingRule, "name")), required=True, key=True, example="顺德用工 → 人社局"
        ),
        Column("priority", _("优先级"), integer(default=100), example="50"),
        Column("category", _("类别"), reference("categories"), match=True, example="employment"),
        Column("region", _("地区"), reference("regions"), match=True, example="440606"),
        Column("keywords", _("关键词"), keywords(_max(RoutingRule, "keywords")), match=True, example="招工,用工"),
        Column("urgency", _("紧急程度"), choice(URGENCY_CHOICES, blank=True), match=True, example="urgent"),
        Column("appeal_type", _("诉求类型"), choice(AppealType.choices, blank=True), match=True, example="complaint"),
        Column("target_type", _("承办部门类型"), reference("bureau_types"), required=True, example="hrss"),
        Column("is_active", _("启用"), boolean(True), example="是"),
    ),
    _("类别 × 地区 × 关键词 × 紧急程度 × 诉求类型 → 承办部门类型；留空表示不限；数字小的优先。"),
)

_UNITS = TimeUnit.choices


def _duration(name: str, example: str, default_unit: str) -> tuple[Column, Column]:
    """A time limit's value and unit columns, headed with the model's own field names."""
    value, unit = (DeadlinePolicy._meta.get_field(f"{name}_{part}") for part in ("value", "unit"))
    return (
        Column(
            value.name,
            getattr(value, "verbose_name", value.name),
            integer(duration=True),
            required=True,
            example=example,
        ),
        Column(
            unit.name,
            getattr(unit, "verbose_name", unit.name),
            choice(_UNITS, unit=True),
            required=True,
            example=default_unit,
        ),
    )


POLICIES = SheetSpec(
    "deadline_policies",
    _("时限规则"),
    DeadlinePolicy,
    (
        Column("category", _("类别"), reference("categories"), key=True, example="employment"),
        Column("urgency", _("紧急程度"), choice(URGENCY_CHOICES, blank=True), key=True, example="urgent"),
        Column("appeal_type", _("诉求类型"), choice(AppealType.choices, blank=True), key=True, example="enquiry"),
        *_duration("sign_for", "1", "working_days"),
        *_duration("return", "1", "working_days"),
        *_duration("first_contact", "24", "natural_hours"),
        *_duration("reply", "5", "working_days"),
        Column("max_extensions", _("最多延期次数"), integer(default=3), example="3"),
        Column("max_extension_working_days", _("每次最多延期工作日"), integer(default=5), example="5"),
        *_duration("rehandle", "15", "working_days"),
        Column("is_active", _("启用"), boolean(True), example="是"),
        Column("note", _("依据/说明"), text(_max(DeadlinePolicy, "note"))),
    ),
    _("每个“类别 × 紧急程度 × 诉求类型”一条（留空表示全部）；最具体的规则优先。"),
)

# Export order, which is also the order rows are written on import (referenced sheets first).
SHEETS: tuple[SheetSpec, ...] = (REGIONS, BUREAU_TYPES, CATEGORIES, BUREAUS, RULES, POLICIES)
SHEETS_BY_KEY = {spec.key: spec for spec in SHEETS}

# Reference sheets written on export and ignored on import.
README_SHEET = ("readme", _("说明"))
APPEAL_TYPES_SHEET = ("appeal_types", _("诉求类型"))
REFERENCE_SHEETS = (README_SHEET, APPEAL_TYPES_SHEET)


def normalise_name(value: str) -> str:
    """Titles and headers compare without spaces, brackets or case: ``地区 (regions)`` = ``地区`` = ``regions``."""
    return re.sub(r"[\s()（）/]+", "", value or "").lower()


def name_variants(zh: Any, en: str) -> set[str]:
    from django.utils import translation

    with translation.override("zh-hans"):
        chinese = str(zh)
    with translation.override("en"):
        english = str(zh)
    return {normalise_name(v) for v in (chinese, en, english, chinese + en, f"{chinese} ({en})")}
