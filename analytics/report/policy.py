"""The "problems to fix at the policy level" sheet: the early warnings raised in the period (未诉先办).

Clusters of businesses with the same problem, repeat filers, surges and sensitive matters point at a
class of problems rather than one ticket; policymakers read them here with the appeals behind each.
Only province-wide reports carry it (a bureau's own report is about its tickets).
"""

from __future__ import annotations

from alerts.selectors import alerts_for_week
from analytics.report.workbook import DATETIME, Writer, local_naive
from analytics.selectors import Filters

POLICY_KEYS = [
    "warning_kind",
    "warning",
    "region",
    "category",
    "count",
    "tracking_number",
    "raised_at",
    "state",
    "action",
]


def policy_sheet(w: Writer, filters: Filters) -> None:
    ws = w.sheet("policy", [16, 44, 12, 16, 8, 44, 17, 10, 36], freeze="A2")
    w.header(ws, POLICY_KEYS)
    rows = alerts_for_week(start=filters.start, end=filters.end, region_id=filters.region_id)
    formats = {6: w.format(num_format=DATETIME)}
    for row in rows:
        ws.append(
            [
                str(row["kind"]),
                row["title"],
                row["region"],
                row["category"],
                row["appeals"],
                "、".join(row["tracking_numbers"]),
                local_naive(row["raised_at"]),
                str(row["state"]),
                row["note"],
            ],
            formats,
        )
    if not rows:
        ws.append([w.t("no_warnings")])
