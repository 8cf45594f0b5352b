"""The deadline sweep (escalation): warning (临期预警), urge (催办) and supervision (督办), once each.

Which deadline an appeal is measured against is ``appeals.selectors.deadlines.running_deadline``
(sign-for while dispatched, the reply while handling or in review). Returned appeals wait on the
dispatcher's arbitration and paused appeals wait on the appellant: neither is swept.

Separately, the **first contact** (首次联系, default 24 hours after signing for): a handling or in-review
appeal whose ``first_contact_due`` has passed with no contact recorded gets one reminder to its
officer and bureau leads (``first_contact_urged_at``, once per sign-for). It counts towards 响应率,
so it is worth a nudge of its own rather than waiting for the reply deadline's steps.

* **warning** when the remaining time is at most ``WARNING_FRACTION`` of the window, capped at
  ``WARNING_HOURS`` (defaults: a fifth of the window, at most 24 hours before the deadline);
* **urge (催办)** at the deadline;
* **supervision (督办)** ``SUPERVISE_AFTER_WORKING_DAYS`` working days after it (default 2).

Each marker (``warned_at``, ``urged_at``, ``supervised_at``) is set once per clock: a marker set
at or before the start of the current clock (e.g. a sign-for warning, then the officer signed for) does not
count. When a run finds an appeal past several steps at once (the sweep was not running), only
the most severe step is notified; the lesser markers are set with it so they never fire late.

Supervisors also urge (催办) and supervise (督办) by hand from the console, with a note
(``appeal_supervisor_urge``/``appeal_supervisor_supervise``): events ``supervisor_urged`` and
``supervisor_supervised``, notices ``supervision.urged``/``supervision.supervised`` to the officer
and the bureau's leads. A hand 督办 sets ``supervised_at`` (the overdue board's "已督办"), so the
sweep does not supervise the same clock again; a hand 催办 leaves ``urged_at`` to the sweep, so the
urge at the deadline still comes.

Safe to run twice at once: every appeal is handled in its own transaction that first takes the
row lock with ``SKIP LOCKED`` (a concurrent sweep or a service holding the row is skipped; the
next run picks it up) and then sets the marker with a conditional UPDATE (``… WHERE urged_at IS
NULL OR urged_at < clock start``); only the run whose UPDATE changed the row writes the audit event
and the outbox row. On SQLite (no row locks) the conditional UPDATE alone guarantees once-only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import NotAllowed, StateConflict
from appeals.models import Appeal, AppealState
from appeals.selectors.deadlines import Clock, running_deadline
from appeals.services.runner import SYSTEM, commit, open_appeal, record, require_text, state_label
from notifications import outbox
from routing import deadlines
from routing.classifier import routing_setting
from routing.roles import staff_display_name

logger = logging.getLogger(__name__)

# (marker field, audit event kind, outbox event type), least to most severe.
STEPS = [
    ("warned_at", "deadline_warning", "deadline.warning"),
    ("urged_at", "deadline_urged", "deadline.urged"),
    ("supervised_at", "deadline_supervised", "deadline.supervised"),
]
SWEPT_STATES = (AppealState.DISPATCHED, AppealState.HANDLING, AppealState.REVIEW)


def clock_for(appeal: Appeal) -> Clock | None:
    """The deadline the sweep measures the appeal against now, or None (not swept while paused)."""
    if appeal.paused_at is not None:
        return None
    return running_deadline(appeal)


def warning_time(clock: Clock) -> datetime:
    window = clock.due - clock.started
    lead = min(window * routing_setting("WARNING_FRACTION", 0.2), timedelta(hours=routing_setting("WARNING_HOURS", 24)))
    return clock.due - max(lead, timedelta(0))


def supervision_time(clock: Clock) -> datetime:
    return deadlines.add_working_days(clock.due, routing_setting("SUPERVISE_AFTER_WORKING_DAYS", 2))


def steps_due(clock: Clock, now: datetime) -> list[int]:
    """Indexes into STEPS whose time has come."""
    due = []
    if now >= warning_time(clock):
        due.append(0)
    if now >= clock.due:
        due.append(1)
    if now >= supervision_time(clock):
        due.append(2)
    return due


def _pending(appeal: Appeal, field: str, clock: Clock) -> bool:
    value = getattr(appeal, field)
    return value is None or value <= clock.started


def sweep_appeal(appeal_id: int, *, now: datetime | None = None) -> str | None:
    """Apply the due deadline steps to one appeal; return the outbox event type written, if any."""
    now = now or timezone.now()
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("bureau")
            .filter(pk=appeal_id, state__in=SWEPT_STATES)
            .first()
        )
        if appeal is None:
            return None
        clock = clock_for(appeal)
        if clock is None:
            return None
        pending = [i for i in steps_due(clock, now) if _pending(appeal, STEPS[i][0], clock)]
        if not pending:
            return None
        fields = [STEPS[i][0] for i in pending]
        not_done = Q()
        for field in fields:
            not_done |= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": clock.started})
        changed = Appeal.objects.filter(pk=appeal.pk).filter(not_done).update(**dict.fromkeys(fields, now))
        if changed != 1:
            return None
        _marker, kind, event_type = STEPS[pending[-1]]
        overdue = deadlines.working_time_between(clock.due, now) if now > clock.due else timedelta(0)
        data = {
            "deadline": clock.name,
            "due": clock.due.isoformat(),
            "overdue_working_hours": round(overdue.total_seconds() / 3600, 1),
            "also_marked": [STEPS[i][1] for i in pending[:-1]],
        }
        record(appeal, kind=kind, actor=SYSTEM, data=data, at=now)
        outbox.emit(event_type, appeal=appeal, payload=data)
        return event_type


FIRST_CONTACT_EVENT = "deadline.first_contact"


def first_contact_overdue(appeal: Appeal, now: datetime) -> bool:
    """Past the first-contact deadline with no contact recorded, and not yet reminded for this sign-for."""
    if appeal.state not in (AppealState.HANDLING, AppealState.REVIEW) or appeal.paused_at is not None:
        return False
    if appeal.first_contact_at is not None or appeal.first_contact_due is None or now < appeal.first_contact_due:
        return False
    marker = appeal.first_contact_urged_at
    return marker is None or (appeal.signed_at is not None and marker <= appeal.signed_at)


def sweep_first_contact(appeal_id: int, *, now: datetime | None = None) -> bool:
    """Remind the officer once that the appellant has not been contacted in time; True if written."""
    now = now or timezone.now()
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("bureau")
            .filter(pk=appeal_id)
            .first()
        )
        if appeal is None or not first_contact_overdue(appeal, now):
            return False
        not_reminded = Q(first_contact_urged_at__isnull=True)
        if appeal.signed_at is not None:
            not_reminded |= Q(first_contact_urged_at__lte=appeal.signed_at)
        changed = (
            Appeal.objects.filter(pk=appeal.pk, first_contact_at__isnull=True)
            .filter(not_reminded)
            .update(first_contact_urged_at=now)
        )
        if changed != 1:
            return False
        overdue = now - appeal.first_contact_due
        data = {
            "deadline": "first_contact",
            "due": appeal.first_contact_due.isoformat(),
            "overdue_hours": round(overdue.total_seconds() / 3600, 1),
        }
        record(appeal, kind="first_contact_overdue", actor=SYSTEM, data=data, at=now)
        outbox.emit(FIRST_CONTACT_EVENT, appeal=appeal, payload=data)
        return True


def first_contact_candidate_ids(now: datetime) -> list[int]:
    return list(
        Appeal.objects.filter(
            state__in=(AppealState.HANDLING, AppealState.REVIEW),
            paused_at__isnull=True,
            first_contact_at__isnull=True,
            first_contact_due__lte=now,
        )
        .exclude(first_contact_urged_at__gt=F("signed_at"))
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def _all_marked_since(start: str) -> Q:
    """Every step done for the clock that started at ``start`` (a supervisor's 督办 by hand sets only
    ``supervised_at``: the warning and the urge at the deadline are still due then)."""
    return Q(warned_at__gte=F(start), urged_at__gte=F(start), supervised_at__gte=F(start))


def candidate_ids(now: datetime) -> list[int]:
    """Appeals that might have a step due (a superset; ``sweep_appeal`` decides exactly)."""
    horizon = now + timedelta(hours=routing_setting("WARNING_HOURS", 24))
    return list(
        Appeal.objects.filter(state__in=SWEPT_STATES, paused_at__isnull=True)
        .filter(
            (Q(state=AppealState.DISPATCHED, sign_for_due__lte=horizon) & ~_all_marked_since("dispatched_at"))
            | (
                Q(state__in=(AppealState.HANDLING, AppealState.REVIEW), reply_due__lte=horizon)
                & ~_all_marked_since("signed_at")
            )
        )
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def run_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass over every candidate appeal; returns counts of events written per type."""
    now = now or timezone.now()
    counts = {event_type: 0 for _f, _k, event_type in STEPS}
    counts[FIRST_CONTACT_EVENT] = 0
    for appeal_id in candidate_ids(now):
        try:
            written = sweep_appeal(appeal_id, now=now)
        except Exception:
            # One bad row must not stop the others; it is retried on the next run.
            logger.exception("Deadline sweep failed for appeal %s", appeal_id)
            continue
        if written:
            counts[written] += 1
    for appeal_id in first_contact_candidate_ids(now):
        try:
            counts[FIRST_CONTACT_EVENT] += sweep_first_contact(appeal_id, now=now)
        except Exception:
            logger.exception("First-contact sweep failed for appeal %s", appeal_id)
    return counts


# --- 催办 and 督办 by a supervisor ---------------------------------------------------------------------

# Where a supervisor may urge or supervise: the appeal is with a bureau that must act.
SUPERVISED_STATES = SWEPT_STATES


def is_supervised(appeal: Appeal) -> bool:
    """Under 督办 for the deadline running now (by hand or by the sweep)."""
    if appeal.supervised_at is None:
        return False
    clock = running_deadline(appeal)
    return clock is None or appeal.supervised_at > clock.started


def _supervisor_step(*, appeal_id: int, user: Any, note: str, supervise: bool, expected_version: int | None) -> Appeal:
    action = _("督办") if supervise else _("催办")
    note = require_text(note, _("请填写%(action)s意见，承办人和本单位负责人会看到这段话。") % {"action": action})
    now = timezone.now()
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_supervisor(user):
            raise NotAllowed(_("只有督办员可以%(action)s。") % {"action": action}, code="forbidden")
        if appeal.state not in SUPERVISED_STATES:
            raise StateConflict(
                _("这件诉求现在是“%(state)s”，不在承办单位办理中，不能%(action)s。")
                % {"state": state_label(appeal.state), "action": action},
                code="wrong_state",
            )
        clock = running_deadline(appeal)
        fields: list[str] = []
        if supervise:
            if appeal.supervised_at is not None and is_supervised(appeal):
                raise StateConflict(
                    _("这件诉求已于 %(at)s 列入督办，无需重复督办；可以催办。")
                    % {"at": timezone.localtime(appeal.supervised_at).strftime("%Y-%m-%d %H:%M")},
                    code="already_supervised",
                )
            appeal.supervised_at = now
            fields.append("supervised_at")
        data: dict[str, Any] = {"manual": True}
        if clock is not None:
            data.update(deadline=clock.name, due=clock.due.isoformat(), overdue=now > clock.due)
        kind = "supervisor_supervised" if supervise else "supervisor_urged"
        commit(
            appeal,
            fields=fields,
            bump_version=supervise,  # a 催办 changes nothing on the row: open forms stay valid
            kind=kind,
            actor=user,
            reason=note,
            data=data,
            at=now,
            event_type="supervision.supervised" if supervise else "supervision.urged",
            payload={"note": note, "by_id": user.pk, "by": staff_display_name(user), **data},
        )
    return appeal


def appeal_supervisor_urge(*, appeal_id: int, user: Any, note: str, expected_version: int | None = None) -> Appeal:
    """催办 by a supervisor: the officer and the bureau's leads are told, with the note.

    Raises ``InvalidInput`` (no note), ``NotAllowed`` (not a supervisor), ``StateConflict``.
    """
    return _supervisor_step(
        appeal_id=appeal_id, user=user, note=note, supervise=False, expected_version=expected_version
    )


def appeal_supervisor_supervise(*, appeal_id: int, user: Any, note: str, expected_version: int | None = None) -> Appeal:
    """督办 by a supervisor: marks the appeal supervised (overdue board) and tells the officer and leads.

    Once per deadline clock (a re-handling or a new sign-for starts a new one). Raises
    ``InvalidInput`` (no note), ``NotAllowed``, ``StateConflict`` (wrong state, already supervised).
    """
    return _supervisor_step(
        appeal_id=appeal_id, user=user, note=note, supervise=True, expected_version=expected_version
    )
