"""The bureau scorecard sheet: 三率, composite, times, overdue, returns, re-handles and follow-ups (回访) per bureau."""

from __future__ import annotations

from typing import Any

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
    "followup_rate",
    "followup_resolved",
    "followup_not_resolved",
    "followup_contested",
    "followup_unreachable",
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
        pct(card.followup_rate),
        card.followups_resolved,
        card.followups_not_resolved,
        card.followups_contested,
        card.followups_unreachable,
    ]


def scorecard_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.scorecard_rows(filters)
    ws = w.sheet("scorecard", [30, 10, 12, 10, 10, 10, 10, 14, 14, 14, 14, 10, 10, 10, 10, 12, 14, 14, 12], freeze="B2")
    ws.ws.set_row(0, 32)  # two lines for the long headers
    w.header(ws, SCORECARD_KEYS)
    percent = w.format(num_format=PERCENT)
    rate_columns = {3: percent, 4: percent, 5: percent, 14: percent}
    for row in rows:
        ws.append([row.name, *scorecard_values(row.card)], rate_columns)
    if rows:
        last = len(rows) + 1
        red = w.format(bg_color="#FDE8E8")
        # Rates under 80 % stand out; the composite runs red → amber → green; overdue as data bars.
        for column in ("D", "E", "F"):
            ws.ws.conditional_format(
                f"{column}2:{column}{last}", {"type": "cell", "criteria": "<", "value": 0.8, "format": red}
            )
        ws.ws.conditional_format(
            f"G2:G{last}",
            {
                "type": "3_color_scale",
                "min_type": "num",
                "min_value": 60,
                "min_color": "#F8696B",
                "mid_type": "num",
                "mid_value": 80,
                "mid_color": "#FFEB84",
                "max_type": "num",
                "max_value": 100,
                "max_color": "#63BE7B",
            },
        )
        ws.ws.conditional_format(
            f"L2:L{last}",
            {"type": "data_bar", "min_type": "num", "min_value": 0, "max_type": "max", "bar_color": "#B3261E"},
        )
