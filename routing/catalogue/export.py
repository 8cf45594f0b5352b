"""Writing the catalogue: an .xlsx workbook (XlsxWriter) or a zip of CSV files (UTF-8 with BOM).

Both hold one sheet/file per ``SheetSpec`` with a header row ``中文 (field)``, plus two reference
sheets that import ignores: a short guide (说明) and the appeal types (诉求类型) with their codes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from routing.appeal_types import AppealType
from routing.catalogue.checks import display, snapshot
from routing.catalogue.specs import APPEAL_TYPES_SHEET, README_SHEET, SHEETS, SheetSpec


def sheet_rows(spec: SheetSpec) -> list[list[str]]:
    """The database's rows of a sheet as cells; region references use the division code where there is one."""
    regions = {r.code: r.division_code for r in spec.model._meta.apps.get_model("routing", "Region").objects.all()}
    rows = []
    for _obj, values in snapshot(spec).values():
        cells = []
        for column in spec.columns:
            value = values.get(column.field)
            if column.parser.reference == "regions" and value:
                value = regions.get(value) or value
            cells.append(display(column, value))
        rows.append(cells)
    return rows


def _appeal_type_rows() -> list[list[str]]:
    rows = []
    for code, label in AppealType.choices:
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        rows.append([code, zh, en])
    return rows


def _readme_rows() -> list[list[str]]:
    rows = [
        [_("派单目录：地区、部门类型、诉求类别、承办单位、分拨规则和时限规则。")],
        [_("修改后在管理后台“派单目录导入”上传，或运行 manage.py catalogue import 文件名；先预览，确认后一次性生效。")],
        [_("表中删去的行会被停用（不会删除）；整张表不上传则该表不变。“说明”和“诉求类型”两张表仅供参考，导入时忽略。")],
        [_("完整说明见 docs/catalogue.md。")],
        [],
        [_("表"), _("列"), _("必填"), _("识别列"), _("可填的值"), _("示例")],
    ]
    for spec in SHEETS:
        for column in spec.columns:
            rows.append(
                [
                    spec.title,
                    column.header,
                    _("是") if column.required else "",
                    _("是") if column.key else "",
                    column.parser.values_hint(),
                    column.example,
                ]
            )
    return rows


def export_xlsx() -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    readme = workbook.add_worksheet(f"{README_SHEET[1]} ({README_SHEET[0]})")
    for r, row in enumerate(_readme_rows()):
        readme.write_row(r, 0, row, bold if r == 5 else None)
    readme.set_column(0, 1, 28)
    readme.set_column(4, 4, 60)
    for spec in SHEETS:
        rows = sheet_rows(spec)
        sheet = workbook.add_worksheet(spec.title)
        for c, column in enumerate(spec.columns):
            sheet.write_string(0, c, column.header, bold)
            sheet.set_column(c, c, max(12, min(40, len(column.header) * 2)), text)
            if column.parser.choices:
                sheet.data_validation(
                    1,
                    c,
                    max(len(rows), 1) + 500,
                    c,
                    {
                        "validate": "list",
                        "source": [str(code) for code, _label in column.parser.choices],
                        "ignore_blank": True,
                    },
                )
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(rows), len(spec.columns) - 1)
    types = workbook.add_worksheet(f"{APPEAL_TYPES_SHEET[1]} ({APPEAL_TYPES_SHEET[0]})")
    types.write_row(0, 0, [_("代码 (code)"), _("中文名称"), _("英文名称")], bold)
    for r, row in enumerate(_appeal_type_rows(), start=1):
        types.write_row(r, 0, row)
    types.set_column(0, 2, 20)
    workbook.close()
    return buffer.getvalue()


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel open Chinese text correctly


def export_csv_zip() -> bytes:
    """One CSV per sheet, named by the sheet's key (regions.csv, rules.csv …)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{README_SHEET[0]}.csv", _csv(_readme_rows()))
        for spec in SHEETS:
            archive.writestr(f"{spec.key}.csv", _csv([[c.header for c in spec.columns], *sheet_rows(spec)]))
        archive.writestr(f"{APPEAL_TYPES_SHEET[0]}.csv", _csv([["code", "zh", "en"], *_appeal_type_rows()]))
    return buffer.getvalue()
