"""The staff timeline of an appeal: audit events and messages in time order, with labels.

Event kinds are named by ``appeals.event_labels`` (one table for the timeline, console and admin);
a kind without a label shows its code, so a new kind is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appeals.event_labels import EVENT_LABELS, event_label
from appeals.models import Appeal, AppealEvent, AppealState

__all__ = ["EVENT_LABELS", "TimelineEntry", "appeal_timeline"]


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "event" or "message"
    internal: bool
    item: Any
    label: str = ""
    state_label: str = ""


def appeal_timeline(*, appeal: Appeal) -> list[TimelineEntry]:
    """Audit events and messages merged in time order; internal notes are flagged as internal."""
    events = AppealEvent.objects.filter(appeal=appeal).select_related("actor__staff_profile").order_by("seq")
    messages = (
        appeal.messages.select_related("author__staff_profile").prefetch_related("attachments").order_by("created_at")
    )
    entries = [
        TimelineEntry(
            at=e.created_at,
            kind="event",
            internal=False,
            item=e,
            label=event_label(e.kind, e.data),
            state_label=str(AppealState(e.to_state).label) if e.to_state in AppealState.values else "",
        )
        for e in events
        if not e.kind.startswith("message.")  # the message itself is shown instead
    ]
    entries += [TimelineEntry(at=m.created_at, kind="message", internal=m.is_internal, item=m) for m in messages]
    entries.sort(key=lambda entry: (entry.at, 0 if entry.kind == "event" else 1))
    return entries
