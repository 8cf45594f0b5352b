"""Which deadline an appeal runs against now, in one place, for pages, queries and the sweep.

* dispatched → ``sign_for_due`` (the clock started at ``dispatched_at``);
* handling or in review → ``reply_due`` (the clock started at ``signed_at``);
* any other state → none (returned appeals wait on the dispatcher, replied ones on the appellant).

``running_deadline`` answers for one appeal, ``due_expression`` is the same rule as SQL for
querysets (``due_at`` in the queues and the overdue board). A paused clock (waiting on the
appellant) still shows its deadline; the sweep skips paused appeals itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, F, When
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Appeal, AppealState

S = AppealState
# Time left before a deadline at which the countdown turns amber (red once it has passed).
AMBER_WINDOW = timedelta(hours=24)
REPLY_CLOCK_STATES = (S.HANDLING, S.REVIEW)


@dataclass(frozen=True)
class Clock:
    name: str  # "sign_for" or "reply"
    started: datetime
    due: datetime


def running_deadline(appeal: Appeal) -> Clock | None:
    """The deadline the appeal is measured against now, with when its clock started; or None."""
    if appeal.state == S.DISPATCHED and appeal.sign_for_due:
        return Clock("sign_for", appeal.dispatched_at or appeal.submitted_at, appeal.sign_for_due)
    if appeal.state in REPLY_CLOCK_STATES and appeal.reply_due:
        return Clock("reply", appeal.signed_at or appeal.dispatched_at or appeal.submitted_at, appeal.reply_due)
    return None


def current_due(appeal: Appeal) -> datetime | None:
    """Just the due time of ``running_deadline``."""
    clock = running_deadline(appeal)
    return clock.due if clock else None


def due_expression() -> Case:
    """``running_deadline``'s due time as a SQL expression, for ``annotate(due_at=…)``."""
    return Case(
        When(state=S.DISPATCHED, then=F("sign_for_due")),
        When(state__in=REPLY_CLOCK_STATES, then=F("reply_due")),
        default=None,
    )


def first_contact_due(appeal: Appeal) -> datetime | None:
    """The first-contact deadline while it still matters: handling or in review, nobody contacted yet."""
    if appeal.state in REPLY_CLOCK_STATES and appeal.first_contact_at is None:
        return appeal.first_contact_due
    return None


def due_status(due: datetime | None, *, now: datetime | None = None) -> str:
    """``red`` past the deadline, ``amber`` inside AMBER_WINDOW, ``ok`` otherwise, ``""`` without one."""
    if due is None:
        return ""
    now = now or timezone.now()
    if due <= now:
        return "red"
    if due - now <= AMBER_WINDOW:
        return "amber"
    return "ok"


def due_label(due: datetime | None, *, now: datetime | None = None) -> str:
    """Countdown text for a deadline: 剩余 3 小时 / 已超期 2 天 (console.js keeps it current)."""
    if due is None:
        return ""
    now = now or timezone.now()
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    if span >= 86400:
        amount = _("%(n)d 天") % {"n": span // 86400}
    elif span >= 3600:
        amount = _("%(n)d 小时") % {"n": span // 3600}
    else:
        amount = _("%(n)d 分钟") % {"n": max(span // 60, 1)}
    return (_("剩余 %(t)s") if seconds > 0 else _("已超期 %(t)s")) % {"t": amount}
