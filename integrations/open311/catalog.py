"""Huying's categories as Open311 services, and the service definition every category shares.

Every service has ``metadata: true``: an appeal needs the enterprise's identity and size, which the
GeoReport core fields do not carry, so clients fetch the definition and send them as
``attribute[code]=value``. The contact person travels in the core fields (``first_name``/``last_name``,
``phone``, ``email``) and the text in ``description``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from appeals.models import EnterpriseSize, Industry, Urgency
from routing.decisions import routing_table
from routing.models import Category, Region


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    description: str
    values: tuple[tuple[str, Any], ...] = ()
    datatype_description: str = ""


def attributes() -> list[Attribute]:
    """The attributes of every service, in form order (labels in the active language)."""
    regions = [(r.code, r.display_name) for r in Region.objects.filter(is_active=True).order_by("sort_order", "code")]
    return [
        Attribute(
            "credit_code",
            "string",
            True,
            _("统一社会信用代码"),
            datatype_description=_("18位，GB 32100-2015；可小写或全角"),
        ),
        Attribute("enterprise_name", "string", True, _("企业名称（营业执照上的全称）")),
        Attribute("industry", "singlevaluelist", True, _("所属行业（GB/T 4754-2017 门类）"), tuple(Industry.choices)),
        Attribute("enterprise_size", "singlevaluelist", True, _("企业规模"), tuple(EnterpriseSize.choices)),
        Attribute(
            "region",
            "singlevaluelist",
            False,
            _("企业所在地区；不填时按 jurisdiction_id 或 address_string 判断"),
            tuple(regions),
        ),
        Attribute(
            "contact_name",
            "string",
            False,
            _("联系人姓名；不填时用 last_name + first_name"),
        ),
        Attribute("title", "string", False, _("诉求标题（不超过100字）；不填时取诉求内容开头")),
        Attribute("urgency", "singlevaluelist", False, _("紧急程度，默认“一般”"), tuple(Urgency.choices)),
        Attribute("urgency_reason", "string", False, _("紧急原因（选择“紧急”时必填）")),
        Attribute(
            "public_consent",
            "singlevaluelist",
            False,
            _("是否同意在公开查询中显示诉求内容（默认不同意）"),
            (("no", _("不同意")), ("yes", _("同意"))),
        ),
    ]


def _attribute_dict(attribute: Attribute, order: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": order,
        "description": attribute.description,
    }
    if attribute.values:
        data["values"] = [{"key": key, "name": str(name)} for key, name in attribute.values]
    return data


def active_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).select_related("default_bureau_type").order_by("sort_order"))


def category_by_code(code: str) -> Category | None:
    return routing_table().categories.get(code)


def service(category: Category) -> dict[str, Any]:
    """One entry of ``GET services``."""
    group = category.default_bureau_type.display_name if category.default_bureau_type_id else ""
    return {
        "service_code": category.code,
        "service_name": category.display_name,
        "description": category.example_en if category.example_en and _is_english() else category.example,
        "metadata": True,
        "type": "realtime",
        "keywords": category.name if _is_english() else category.name_en,
        "group": group,
    }


def definition(category: Category) -> dict[str, Any]:
    """``GET services/{service_code}``: the attributes a request for ``category`` carries."""
    return {
        "service_code": category.code,
        "attributes": [_attribute_dict(a, order) for order, a in enumerate(attributes(), start=1)],
    }


def _is_english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")
