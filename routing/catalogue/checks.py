"""Reading the sheets' cells, checking the catalogue as a whole, and comparing it with the database.

``check_catalogue(raw)`` returns a ``CheckedCatalogue``: the rows that were read, every error found
(never only the first) and a ``Preview`` of what applying it would add, change and deactivate.
References between sheets are checked against the catalogue as it would be after the import: the
uploaded rows for a sheet that is in the upload, the database's rows for one that is not.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from routing.catalogue.reader import RawCatalogue, RawSheet
from routing.catalogue.specs import SHEETS, SHEETS_BY_KEY, CellError, Column, SheetSpec, name_variants, normalise_name
from routing.decisions import keyword_list

Key = tuple[Any, ...]


@dataclass(frozen=True)
class RowError:
    """One problem, located by sheet, row (the spreadsheet's row number; None for the whole sheet) and column."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += " " + _("第 %(row)d 行") % {"row": self.row}
        if self.column:
            where += f" [{self.column}]"
        return f"{where}：{self.message}"


@dataclass
class Row:
    row: int
    values: dict[str, Any]  # field → value; a field whose cell could not be read is absent
    key: Key = ()


@dataclass(frozen=True)
class FieldChange:
    column: Column
    before: str
    after: str


@dataclass
class RowChange:
    key: Key
    label: str
    row: int | None
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class SheetPreview:
    spec: SheetSpec
    present: bool
    added: list[RowChange] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    removed: list[RowChange] = field(default_factory=list)  # deactivated (is_active=False), never deleted
    unchanged: int = 0

    @property
    def change_count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)


@dataclass
class Preview:
    sheets: list[SheetPreview]

    @property
    def has_changes(self) -> bool:
        return any(sheet.change_count for sheet in self.sheets)

    def counts(self) -> dict[str, int]:
        return {
            "added": sum(len(s.added) for s in self.sheets),
            "changed": sum(len(s.changed) for s in self.sheets),
            "removed": sum(len(s.removed) for s in self.sheets),
        }


@dataclass
class CheckedCatalogue:
    rows: dict[str, list[Row]]  # by sheet key, only the sheets in the upload
    errors: list[RowError]
    preview: Preview

    @property
    def ok(self) -> bool:
        return not self.errors


# --- The database side ------------------------------------------------------------------------


def _db_value(spec: SheetSpec, column: Column, obj: Any) -> Any:
    if column.parser.reference:
        related = getattr(obj, column.field)
        return related.code if related is not None else ""
    value = getattr(obj, column.field)
    try:
        # Through the same parser as an uploaded cell, so "a, b" in the database equals "a,b" read back.
        return column.parser.parse(column.parser.format(value))
    except CellError:
        return value


def _key(spec: SheetSpec, values: dict[str, Any]) -> Key:
    return tuple(values.get(c.field, "") or "" for c in spec.key_columns)


def snapshot(spec: SheetSpec) -> dict[Key, tuple[Any, dict[str, Any]]]:
    """The database's rows of a sheet: natural key → (model instance, values as the sheet holds them)."""
    related = [c.field for c in spec.columns if c.parser.reference]
    result: dict[Key, tuple[Any, dict[str, Any]]] = {}
    for obj in spec.model._default_manager.select_related(*related).order_by("pk"):
        values = {c.field: _db_value(spec, c, obj) for c in spec.columns}
        result.setdefault(_key(spec, values), (obj, values))
    return result


def display(column: Column, value: Any) -> str:
    if value is None or value == "":
        return ""
    if column.parser.reference:
        return str(value)
    return column.parser.format(value)


# --- Reading the cells --------------------------------------------------------------------------


def _match_columns(raw: RawSheet, errors: list[RowError]) -> dict[int, Column]:
    spec = raw.spec
    positions: dict[int, Column] = {}
    for index, header in enumerate(raw.header):
        if not header:
            continue
        wanted = normalise_name(header)
        column = next((c for c in spec.columns if wanted in name_variants(c.zh, c.field)), None)
        if column is None:
            errors.append(RowError(spec.label, 1, header, _("无法识别的列名。")))
        elif column in positions.values():
            errors.append(RowError(spec.label, 1, header, _("这一列重复出现。")))
        else:
            positions[index] = column
    for column in spec.columns:
        if column.required and column not in positions.values():
            errors.append(
                RowError(spec.label, 1, column.label, _("缺少必填列“%(column)s”。") % {"column": column.header})
            )
    return positions


def _read_rows(raw: RawSheet, errors: list[RowError]) -> list[Row]:
    spec = raw.spec
    positions = _match_columns(raw, errors)
    present = set(positions.values())
    rows = []
    for number, cells in raw.rows:
        values: dict[str, Any] = {}
        for index, column in positions.items():
            cell = cells[index] if index < len(cells) else None
            try:
                value = column.parser.parse(cell)
            except CellError as exc:
                errors.append(RowError(spec.label, number, column.label, str(exc)))
                continue
            if column.required and (value is None or value == ""):
                errors.append(RowError(spec.label, number, column.label, _("必填，不能为空。")))
                continue
            values[column.field] = value
        for column in spec.columns:
            if column not in present and not column.required:
                # A column left out of the upload keeps its default (the parser's reading of an empty cell).
                with contextlib.suppress(CellError):
                    values[column.field] = column.parser.parse(None)
        rows.append(Row(number, values))
    return rows


# --- The whole catalogue ------------------------------------------------------------------------


class _Lookups:
    """Natural keys of the catalogue after the import, to resolve and check references."""

    def __init__(self, final: dict[str, dict[Key, dict[str, Any]]]):
        self.final = final
        self.codes: dict[str, dict[str, str]] = {}
        for sheet, rows in final.items():
            index: dict[str, str] = {}
            for key, values in rows.items():
                if len(key) == 1 and key[0]:
                    index.setdefault(str(key[0]).lower(), key[0])
                if sheet == "regions" and values.get("division_code"):
                    index.setdefault(values["division_code"].lower(), key[0])
            self.codes[sheet] = index

    def resolve(self, sheet: str, value: str) -> str | None:
        return self.codes[sheet].get(value.lower())


def _missing_reference_message(sheet: str, value: str) -> str:
    messages = {
        "regions": _("未知的地区代码“%(value)s”：地区表中没有这个地区代码或行政区划代码。"),
        "bureau_types": _("未知的部门类型“%(value)s”：部门类型表中没有这个代码。"),
        "categories": _("未知的类别“%(value)s”：诉求类别表中没有这个代码。"),
    }
    return messages[sheet] % {"value": value}


def check_catalogue(raw: RawCatalogue) -> CheckedCatalogue:
    """Read, check and compare an uploaded catalogue. Nothing is written."""
    errors: list[RowError] = []
    for title in raw.unknown_sheets:
        names = "、".join(spec.title for spec in SHEETS)
        errors.append(RowError(title, None, "", _("无法识别的工作表，可用的表：%(names)s。") % {"names": names}))
    if not raw.sheets and not raw.unknown_sheets:
        errors.append(RowError("", None, "", _("文件中没有任何派单目录的表。")))

    rows = {key: _read_rows(sheet, errors) for key, sheet in raw.sheets.items()}
    snapshots = {spec.key: snapshot(spec) for spec in SHEETS}

    # Regions first: other sheets' region references resolve against the regions after the import.
    def final_of(sheet: str) -> dict[Key, dict[str, Any]]:
        if sheet in rows:
            return {_key(SHEETS_BY_KEY[sheet], r.values): r.values for r in rows[sheet]}
        return {key: values for key, (_obj, values) in snapshots[sheet].items()}

    lookups = _Lookups({s: final_of(s) for s in ("regions", "bureau_types", "categories")})
    for sheet_key, sheet_rows in rows.items():
        spec = SHEETS_BY_KEY[sheet_key]
        for row in sheet_rows:
            for column in spec.columns:
                target = column.parser.reference
                value = row.values.get(column.field)
                if not target or not value:
                    continue
                resolved = lookups.resolve(target, value)
                if resolved is None:
                    errors.append(
                        RowError(spec.label, row.row, column.label, _missing_reference_message(target, value))
                    )
                    row.values.pop(column.field)
                else:
                    row.values[column.field] = resolved
            row.key = _key(spec, row.values)
        _check_duplicates(spec, sheet_rows, errors)

    final = {spec.key: final_of(spec.key) for spec in SHEETS}
    if "regions" in rows:
        _check_regions(rows["regions"], errors)
    if "rules" in rows:
        _check_rules(rows["rules"], final, errors)
    if "bureau_types" in rows:
        present = {r.key for r in rows["bureau_types"]}
        for key in snapshots["bureau_types"]:
            if key not in present:
                errors.append(
                    RowError(
                        SHEETS_BY_KEY["bureau_types"].label,
                        None,
                        "",
                        _("部门类型“%(code)s”不在表中：部门类型不能通过导入删除，请保留这一行。") % {"code": key[0]},
                    )
                )
    preview = Preview([_compare(spec, rows.get(spec.key), snapshots[spec.key]) for spec in SHEETS])
    errors.sort(
        key=lambda e: (
            [s.label for s in SHEETS].index(e.sheet) if e.sheet in [s.label for s in SHEETS] else -1,
            e.row or 0,
        )
    )
    return CheckedCatalogue(rows, errors, preview)


def _check_duplicates(spec: SheetSpec, rows: list[Row], errors: list[RowError]) -> None:
    seen: dict[Key, int] = {}
    for row in rows:
        if any(c.field not in row.values for c in spec.key_columns if c.required):
            continue
        if row.key in seen:
            label = " / ".join(str(part) or "—" for part in row.key)
            errors.append(
                RowError(
                    spec.label,
                    row.row,
                    " + ".join(c.label for c in spec.key_columns),
                    _("与第 %(first)d 行重复（%(key)s）：每行的识别列必须唯一。")
                    % {"first": seen[row.key], "key": label},
                )
            )
        else:
            seen[row.key] = row.row
    if spec.key == "regions":
        divisions: dict[str, int] = {}
        for row in rows:
            code = row.values.get("division_code")
            if code and code in divisions:
                errors.append(
                    RowError(
                        spec.label,
                        row.row,
                        spec.column("division_code").label,
                        _("行政区划代码“%(code)s”与第 %(first)d 行重复。") % {"code": code, "first": divisions[code]},
                    )
                )
            elif code:
                divisions[code] = row.row


def _check_regions(rows: list[Row], errors: list[RowError]) -> None:
    spec = SHEETS_BY_KEY["regions"]
    for row in rows:
        if row.values.get("parent") and row.values.get("parent") == row.values.get("code"):
            errors.append(RowError(spec.label, row.row, spec.column("parent").label, _("上级地区不能是它自己。")))


def _check_rules(rows: list[Row], final: dict[str, dict[Key, dict[str, Any]]], errors: list[RowError]) -> None:
    spec = SHEETS_BY_KEY["rules"]
    regions = final["regions"]
    bureaus = {key for key, values in final["bureaus"].items() if values.get("is_active", True)}
    conditions: dict[tuple[Any, ...], int] = {}
    match_columns = [c for c in spec.columns if c.match]
    for row in rows:
        values = row.values
        if not values.get("is_active", True):
            continue
        region, target = values.get("region"), values.get("target_type")
        if region and target:
            city = regions.get((region,), {}).get("parent") or region
            level = regions.get((region,), {}).get("level")
            candidates = {(region, target)} | ({(city, target)} if level == "district" else set())
            if not candidates & bureaus:
                errors.append(
                    RowError(
                        spec.label,
                        row.row,
                        spec.column("target_type").label,
                        _("规则指向的承办单位不存在：地区“%(region)s”没有启用的“%(type)s”类承办单位（见承办单位表）。")
                        % {"region": region, "type": target},
                    )
                )
        if any(c.field not in values for c in match_columns):
            continue
        condition = tuple(
            frozenset(keyword_list(values[c.field])) if c.field == "keywords" else values[c.field]
            for c in match_columns
        )
        if condition in conditions:
            errors.append(
                RowError(
                    spec.label,
                    row.row,
                    " × ".join(c.label for c in match_columns),
                    _("与第 %(first)d 行的规则重叠：类别、地区、关键词和紧急程度完全相同，只有一条会生效。")
                    % {"first": conditions[condition]},
                )
            )
        else:
            conditions[condition] = row.row


def row_label(spec: SheetSpec, key: Key, values: dict[str, Any]) -> str:
    label = " / ".join(str(part) for part in key if part) or _("全部")
    name = values.get("name")
    if name and name not in key:
        label = f"{label} {name}"
    return label


def _compare(spec: SheetSpec, rows: list[Row] | None, db: dict[Key, tuple[Any, dict[str, Any]]]) -> SheetPreview:
    preview = SheetPreview(spec, present=rows is not None)
    if rows is None:
        return preview
    seen = set()
    for row in rows:
        if row.key in seen:
            continue
        seen.add(row.key)
        existing = db.get(row.key)
        if existing is None:
            change = RowChange(row.key, row_label(spec, row.key, row.values), row.row)
            change.changes = [
                FieldChange(c, "", display(c, row.values.get(c.field))) for c in spec.columns if c.field in row.values
            ]
            preview.added.append(change)
            continue
        before = existing[1]
        diffs = [
            FieldChange(c, display(c, before.get(c.field)), display(c, row.values[c.field]))
            for c in spec.columns
            if c.field in row.values and row.values[c.field] != before.get(c.field)
        ]
        if diffs:
            preview.changed.append(RowChange(row.key, row_label(spec, row.key, row.values), row.row, diffs))
        else:
            preview.unchanged += 1
    if spec.has_is_active:
        for key, (_obj, values) in db.items():
            if key not in seen and values.get("is_active"):
                column = spec.column("is_active")
                preview.removed.append(
                    RowChange(key, row_label(spec, key, values), None, [FieldChange(column, "是", "否")])
                )
    return preview


def group_errors(errors: list[RowError]) -> dict[str, list[RowError]]:
    grouped: dict[str, list[RowError]] = defaultdict(list)
    for error in errors:
        grouped[error.sheet].append(error)
    return dict(grouped)
