"""并单: merging a duplicate into its master, and telling merged appeals' appellants the outcome.

Possible duplicates are found by ``appeals.selectors.duplicates``; a dispatcher merges one here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.errors import InvalidInput
from appeals.models import Appeal, AppealState
from appeals.services.runner import SYSTEM, commit, run_transition

# A master in one of these states is no place to merge into.
CLOSED_MASTER_STATES = (AppealState.MERGED, AppealState.REJECTED, AppealState.WITHDRAWN)
MASTER_OUTCOMES = (AppealState.REPLIED, AppealState.CLOSED)


def appeal_merge(
    *, appeal_id: int, user: Any, master_id: int, note: str = "", expected_version: int | None = None
) -> Appeal:
    """并单: the appeal follows ``master``'s outcome; its appellant is told."""
    if master_id == appeal_id:
        raise InvalidInput(_("不能把诉求并入它自己。"), code="self_merge")
    master = Appeal.objects.filter(pk=master_id).first()
    if master is None or master.state in CLOSED_MASTER_STATES:
        raise InvalidInput(_("请选择一件有效的主诉求。"), code="master")
    return run_transition(
        appeal_id=appeal_id,
        transition="merge",
        actor=user,
        kind="merged",
        action_label=_("并单"),
        kwargs={"master": master, "at": timezone.now()},
        reason=note,
        data={"master_id": master.pk, "master_tracking_number": master.tracking_number},
        expected_version=expected_version,
    )


def notify_merged_followers(*, master_id: int | None = None) -> int:
    """Tell the appellants of merged appeals about their master's reply or closing, once each.

    For every merged appeal whose master is replied or closed and which has no
    ``master_outcome`` event for that outcome and re-handling round yet: an audit event on the
    merged appeal and an ``appeal.master_outcome`` outbox row (the appellant is told the master's
    tracking number and state). Safe to run repeatedly and concurrently (row lock + re-check).
    Returns the number of notifications written.
    """
    masters = Appeal.objects.filter(state__in=MASTER_OUTCOMES, merged_appeals__isnull=False).distinct()
    if master_id is not None:
        masters = masters.filter(pk=master_id)
    written = 0
    for master in masters:
        key = {"outcome": master.state, "round": master.reopen_count}
        follower_ids = list(
            Appeal.objects.filter(merged_into=master, state=AppealState.MERGED).values_list("pk", flat=True)
        )
        for follower_id in follower_ids:
            with transaction.atomic():
                follower = (
                    Appeal.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=follower_id).first()
                )
                if follower is None:
                    continue  # another sweep holds it
                done = [
                    {"outcome": d.get("outcome"), "round": d.get("round")}
                    for d in follower.events.filter(kind="master_outcome").values_list("data", flat=True)
                ]
                if key in done:
                    continue
                data = {**key, "master_id": master.pk, "master_tracking_number": master.tracking_number}
                # Nothing on the merged appeal's row changes: no save, the version stays.
                commit(
                    follower,
                    fields=(),
                    bump_version=False,
                    kind="master_outcome",
                    actor=SYSTEM,
                    data=data,
                    event_type="appeal.master_outcome",
                    bureau=master.bureau,
                    payload=data,
                )
                written += 1
    return written
