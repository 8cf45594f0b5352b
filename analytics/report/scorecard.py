"""The bureau scorecard sheet: 三率, composite, times, overdue, returns and re-handles per bureau."""

from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
from openpyxl.styles import PatternFill

from analytics import selectors
from analytics.metrics import Scorecard
from analytics.report.workbook import PERCENT, Writer, pct
from analytics.selectors import Filters

SCORECARD_KEYS = [
    "bureau",
    "dispatched",
    "signed_on_time",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "sign_median",
    "sign_p90",
    "reply_median",
    "reply_p90",
    "overdue_count",
    "returns",
    "rehandles",
]


def scorecard_values(card: Scorecard) -> list[Any]:
    return [
        card.dispatched,
        card.signed_on_time,
        pct(card.response_rate),
        pct(card.resolution_rate),
        pct(card.satisfaction_rate),
        card.composite,
        card.sign_median_hours,
        card.sign_p90_hours,
        card.reply_median_hours,
        card.reply_p90_hours,
        card.overdue,
        card.returns,
        card.rehandles,
    ]


def scorecard_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.scorecard_rows(filters)
    ws = w.sheet("scorecard", [30, 10, 12, 10, 10, 10, 10, 14, 14, 14, 14, 10, 10, 10], freeze="B2")
    ws.row_dimensions[1].height = 32  # two lines for the long headers
    w.header(ws, SCORECARD_KEYS)
    for row in rows:
        values = scorecard_values(row.card)
        cells = [w.cell(ws, row.name)]
        for index, value in enumerate(values):
            cells.append(w.cell(ws, value, number_format=PERCENT if 2 <= index <= 4 else None))
        ws.append(cells)
    if rows:
        last = len(rows) + 1
        red = PatternFill("solid", fgColor="FDE8E8")
        # Rates under 80 % stand out; the composite runs red → amber → green; overdue as data bars.
        for column in ("D", "E", "F"):
            ws.conditional_formatting.add(
                f"{column}2:{column}{last}", CellIsRule(operator="lessThan", formula=["0.8"], fill=red)
            )
        ws.conditional_formatting.add(
            f"G2:G{last}",
            ColorScaleRule(
                start_type="num",
                start_value=60,
                start_color="F8696B",
                mid_type="num",
                mid_value=80,
                mid_color="FFEB84",
                end_type="num",
                end_value=100,
                end_color="63BE7B",
            ),
        )
        ws.conditional_formatting.add(
            f"L2:L{last}", DataBarRule(start_type="num", start_value=0, end_type="max", color="B3261E")
        )
