"""Helpers for the catalogue tests: a workbook's sheets as lists of rows, edited and written back."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook


def sheets_of(data: bytes) -> dict[str, list[list[object]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def workbook_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def find_row(rows: list[list[object]], column: str, value: object) -> list[object]:
    index = next(i for i, header in enumerate(rows[0]) if str(header).endswith(f"({column})"))
    return next(row for row in rows[1:] if row[index] == value)


def set_cell(rows: list[list[object]], row: list[object], column: str, value: object) -> None:
    index = next(i for i, header in enumerate(rows[0]) if str(header).endswith(f"({column})"))
    row[index] = value


def column_index(rows: list[list[object]], column: str) -> int:
    return next(i for i, header in enumerate(rows[0]) if str(header).endswith(f"({column})"))
