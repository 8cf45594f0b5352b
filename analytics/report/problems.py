"""The problem-ticket sheet (问题工单): counts for the period, then every ticket flagged in it or still open.

Each row gives the appeal, why it was flagged (re-opened, bounced between bureaus, open after 督办),
its numbers, the coordinating owner with the brief, and the resolution. A bureau's own report lists
only its tickets.
"""

from __future__ import annotations

from analytics import selectors
from analytics.report.workbook import DATETIME, Writer, local_naive
from analytics.selectors import Filters
from problems.selectors import tickets_for_period
from routing.roles import staff_display_name

PROBLEM_KEYS = [
    "tracking_number",
    "title_col",
    "bureau",
    "problem_reasons",
    "reopen_count",
    "problem_bureaus",
    "state",
    "flagged_at",
    "owner",
    "owner_note",
    "resolve_reason",
]


def problems_sheet(w: Writer, filters: Filters, labels: dict[str, dict[int, str]]) -> None:
    ws = w.sheet("problems", [20, 36, 24, 24, 10, 10, 10, 17, 16, 36, 36])
    counts = selectors.problem_counts(filters)
    for key, value in (
        ("problems_flagged", counts.flagged),
        ("problems_resolved", counts.resolved),
        ("problems_open", counts.open),
        ("problems_with_owner", counts.with_owner),
    ):
        ws.append([w.t(key), value])
    ws.append([])
    w.header(ws, PROBLEM_KEYS)
    tickets = tickets_for_period(start=filters.start, end=filters.end, region_ids=filters.region_ids)
    if filters.bureau_id is not None:
        tickets = tickets.filter(bureau_id=filters.bureau_id)
    formats = {7: w.format(num_format=DATETIME)}
    written = 0
    for ticket in tickets.iterator(chunk_size=500):
        appeal = ticket.appeal
        ws.append(
            [
                appeal.tracking_number,
                appeal.title,
                labels["bureau"].get(appeal.bureau_id, "") if appeal.bureau_id else "",
                "、".join(ticket.reason_labels),
                (ticket.detail or {}).get("reopen_count", appeal.reopen_count),
                (ticket.detail or {}).get("bureaus", 0),
                str(ticket.get_state_display()),
                local_naive(ticket.flagged_at),
                staff_display_name(ticket.owner) if ticket.owner else "",
                ticket.owner_note,
                ticket.resolve_reason,
            ],
            formats,
        )
        written += 1
    if not written:
        ws.append([w.t("no_problems")])
