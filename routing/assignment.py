"""Assignment inside a bureau: who in the bureau gets a newly dispatched appeal (the policy).

This module decides; ``appeals.services.assignment`` writes the choice to the appeal with its
audit event and notification.

``Bureau.assignment_mode``:

* ``pool`` (抢单): nobody is assigned; any officer of the bureau signs for it.
* ``round_robin`` (轮流): the next eligible officer after the one assigned last (by user id).
* ``least_loaded`` (按在办量): the eligible officer with the fewest open appeals of the bureau
  (dispatched, handling or in review), ties broken by the lower user id.

Eligible officers hold the officer role in the bureau, are active and not away
(``StaffProfile.is_away``) and are under ``max_open_per_officer`` (if set). With ``use_skills``
officers whose skills include the appeal's category are preferred; when none of them is eligible
the appeal goes to any eligible officer rather than waiting. When nobody is eligible the appeal
stays in the pool and an ``assignment_skipped`` audit event says why.

Auto-assignment sets ``appeal.officer`` but does **not** sign for the appeal: the officer still
signs for it explicitly (签收 is the officer's acknowledgement, starts the reply clock and is what
the response rate measures), and the return window still applies. Until then any officer of the
bureau may still sign for it (the signer becomes the officer; the audit trail shows both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from routing.models import AssignmentCursor, Bureau, StaffProfile
from routing.roles import Role

# Appeal states that count as an officer's open workload.
WORKLOAD_STATES = ("dispatched", "handling", "review")


@dataclass
class AssignmentChoice:
    officer: Any | None
    mode: str
    reason: str
    candidates: int = 0


def eligible_officers(bureau: Bureau, *, category_id: int | None = None) -> list[tuple[Any, int]]:
    """(user, open workload) for every officer who may receive a new appeal, ordered by user id."""
    User = get_user_model()
    profiles = StaffProfile.objects.filter(
        bureau=bureau, role=Role.OFFICER, is_away=False, user__is_active=True
    ).select_related("user")
    user_ids = [p.user_id for p in profiles]
    workload = dict(
        User.objects.filter(pk__in=user_ids)
        .annotate(
            open_count=Count(
                "assigned_appeals",
                filter=Q(assigned_appeals__state__in=WORKLOAD_STATES, assigned_appeals__bureau=bureau),
            )
        )
        .values_list("pk", "open_count")
    )
    cap = bureau.max_open_per_officer
    officers = [(p.user, workload.get(p.user_id, 0)) for p in profiles]
    officers = [(u, n) for u, n in officers if cap is None or n < cap]
    if bureau.use_skills and category_id is not None and officers:
        skilled = set(
            StaffProfile.objects.filter(user_id__in=[u.pk for u, _n in officers], skills__id=category_id).values_list(
                "user_id", flat=True
            )
        )
        preferred = [(u, n) for u, n in officers if u.pk in skilled]
        if preferred:
            officers = preferred
    officers.sort(key=lambda item: item[0].pk)
    return officers


def choose_officer(bureau: Bureau, *, category_id: int | None = None) -> AssignmentChoice:
    """Pick the officer for a new appeal (reads; the round-robin cursor is moved by the caller)."""
    mode = bureau.assignment_mode
    if mode == Bureau.AssignmentMode.POOL:
        return AssignmentChoice(None, mode, "pool")
    officers = eligible_officers(bureau, category_id=category_id)
    if not officers:
        return AssignmentChoice(None, mode, "no_eligible_officer")
    if mode == Bureau.AssignmentMode.ROUND_ROBIN:
        cursor = AssignmentCursor.objects.select_for_update().filter(bureau=bureau).first()
        last = cursor.last_user_id if cursor else None
        after = [u for u, _n in officers if last is None or u.pk > last]
        chosen = after[0] if after else officers[0][0]
        return AssignmentChoice(chosen, mode, "round_robin", len(officers))
    # least_loaded
    chosen = min(officers, key=lambda item: (item[1], item[0].pk))[0]
    return AssignmentChoice(chosen, mode, "least_loaded", len(officers))


def remember_round_robin(bureau: Bureau, user_id: int) -> None:
    AssignmentCursor.objects.update_or_create(bureau=bureau, defaults={"last_user_id": user_id})
