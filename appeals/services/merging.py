"""并单: merging a duplicate into its master, undoing a wrong merge, and telling merged appeals'
appellants the outcome.

Possible duplicates are found by ``appeals.selectors.duplicates``; a dispatcher merges one here.

* **Merge** (``appeal_merge``): only into an *open* appeal (submitted … in review: not replied,
  closed, withdrawn, rejected or merged itself). The follower's appellant is told (outbox
  ``appeal.merged``: SMS and e-mail); the master's trail records the duplicate it took in. The
  merge event keeps what an unmerge needs to put the follower back (``data["restore"]``).
* **Unmerge** (``appeal_unmerge``): a dispatcher, with a reason. Refused when restoring would no
  longer be safe — the master has left the open states (its appellant-facing outcome exists and
  the follower's appellant was or is about to be told it), or the follower has any audit event
  after its merge other than internal notes (something happened to it since). The follower goes
  back to the triage queue (it was merged from submitted or triage, where no deadline runs);
  any deadline it carried moves forward by the working time it spent merged, so the merged time
  is not charged. Audited on both appeals; the appellant is told (``appeal.unmerged``).
* **Outcome** (``notify_merged_followers``): when the master is replied or closed, every
  follower's appellant is told (``appeal.master_outcome``), once per outcome and round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import OPEN_STATES, Appeal, AppealEvent, AppealState
from appeals.services.runner import SYSTEM, commit, open_appeal, record, require_text, run_transition, state_label
from routing import deadlines

MASTER_OUTCOMES = (AppealState.REPLIED, AppealState.CLOSED)
# The deadlines a merge stops; an unmerge moves each (when set) by the time spent merged.
CLOCK_FIELDS = ("sign_for_due", "return_due", "first_contact_due", "reply_due")
# Events on a merged appeal that do not count as "it moved on since the merge".
HARMLESS_AFTER_MERGE = frozenset({"message.internal_note"})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _check_master(master: Appeal | None) -> Appeal:
    if master is None:
        raise InvalidInput(_("找不到要并入的主诉求，请核对受理编号。"), code="master")
    if master.state not in OPEN_STATES:
        raise InvalidInput(
            _("主诉求 %(number)s 现在是“%(state)s”，不能再并入其他诉求。请选择一件尚未答复、仍在办理的诉求。")
            % {"number": master.tracking_number, "state": state_label(master.state)},
            code="master_closed",
        )
    return master


def appeal_merge(
    *, appeal_id: int, user: Any, master_id: int, note: str = "", expected_version: int | None = None
) -> Appeal:
    """并单: the appeal follows ``master``'s outcome; its appellant is told.

    ``master`` must be open (``OPEN_STATES``); checked here, under the master's row lock, not only
    by the page. Raises ``InvalidInput`` (self, unknown or closed master), ``NotAllowed``,
    ``StateConflict``.
    """
    if master_id == appeal_id:
        raise InvalidInput(_("不能把诉求并入它自己。"), code="self_merge")
    master = _check_master(Appeal.objects.filter(pk=master_id).first())
    data: dict[str, Any] = {"master_id": master.pk, "master_tracking_number": master.tracking_number}
    now = timezone.now()

    def lock_master(appeal: Appeal) -> None:
        # The follower is locked first (run_transition); the master second, without waiting, so
        # two dispatchers merging A into B and B into A cannot deadlock.
        locked = Appeal.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=master.pk).first()
        if locked is None:
            raise StateConflict(_("主诉求正在被其他人处理，请稍后再试。"), code="master_busy")
        _check_master(locked)
        if locked.merged_into_id == appeal.pk:
            raise InvalidInput(_("主诉求已经并入了这件诉求，不能互相并单。"), code="cycle")
        data["restore"] = {
            "state": appeal.state,
            "version": appeal.version + 1,  # the version the merge saves
            "merged_at": now.isoformat(),
            **{name: _iso(getattr(appeal, name)) for name in CLOCK_FIELDS},
        }
        record(
            locked,
            kind="duplicate_merged",
            actor=user,
            reason=note,
            data={"follower_id": appeal.pk, "follower_tracking_number": appeal.tracking_number},
            at=now,
        )

    return run_transition(
        appeal_id=appeal_id,
        transition="merge",
        actor=user,
        kind="merged",
        action_label=_("并单"),
        kwargs={"master": master, "at": now},
        reason=note,
        data=data,
        before=lock_master,
        expected_version=expected_version,
        payload={"master_id": master.pk, "master_tracking_number": master.tracking_number},
    )


def unmerge_refusal(follower: Appeal, master: Appeal | None, merge_event: AppealEvent | None) -> str:
    """Why an unmerge would not be safe now, in words; "" when it may go ahead."""
    if merge_event is None or master is None:
        return _("找不到这件诉求的并单记录，无法撤销。")
    if master.state not in OPEN_STATES:
        return _(
            "主诉求 %(number)s 已经是“%(state)s”，诉求人已经或即将收到主诉求的办理结果，不能再撤销并单。"
            "如有需要，请另行联系诉求人。"
        ) % {"number": master.tracking_number, "state": state_label(master.state)}
    later = (
        AppealEvent.objects.filter(appeal=follower, seq__gt=merge_event.seq)
        .exclude(kind__in=HARMLESS_AFTER_MERGE)
        .order_by("seq")
        .first()
    )
    if later is not None:
        from appeals.event_labels import event_label

        return _("并单之后这件诉求又有了变化（%(at)s %(event)s），撤销并单不能安全地恢复原状，请改为人工处理。") % {
            "at": timezone.localtime(later.created_at).strftime("%Y-%m-%d %H:%M"),
            "event": event_label(later.kind),
        }
    return ""


def last_merge_event(appeal: Appeal) -> AppealEvent | None:
    return AppealEvent.objects.filter(appeal=appeal, kind="merged").order_by("-seq").first()


def can_unmerge(appeal: Appeal) -> bool:
    """The page's test for offering the button (the service re-checks under the row locks)."""
    if appeal.state != AppealState.MERGED or appeal.merged_into_id is None:
        return False
    return not unmerge_refusal(appeal, appeal.merged_into, last_merge_event(appeal))


def appeal_unmerge(*, appeal_id: int, user: Any, reason: str, expected_version: int | None = None) -> Appeal:
    """撤销并单: a dispatcher puts a wrongly merged appeal back in the triage queue, with a reason.

    Restores the state it had (triage; a merely submitted appeal goes to triage too, where a
    dispatcher picks it up) and its deadlines, moved forward by the working time spent merged.
    Events: ``unmerged`` on the follower, ``duplicate_unmerged`` on the master; outbox
    ``appeal.unmerged`` (the follower's appellant). Raises ``InvalidInput`` (no reason),
    ``NotAllowed`` (not a dispatcher), ``StateConflict`` (stale form, not merged, moved on since).
    """
    reason = require_text(reason, _("请写明撤销并单的理由。"))
    now = timezone.now()
    with transaction.atomic():
        follower = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_dispatcher(user):
            raise NotAllowed(_("只有分拨员可以撤销并单。"), code="forbidden")
        if follower.state != AppealState.MERGED or follower.merged_into_id is None:
            raise StateConflict(
                _("这件诉求现在是“%(state)s”，没有并入其他诉求，不能撤销并单。")
                % {"state": state_label(follower.state)},
                code="wrong_state",
            )
        master = Appeal.objects.select_for_update(of=("self",)).filter(pk=follower.merged_into_id).first()
        merge_event = last_merge_event(follower)
        refusal = unmerge_refusal(follower, master, merge_event)
        if refusal:
            raise StateConflict(refusal, code="moved_on")
        assert master is not None and merge_event is not None
        restore = (merge_event.data or {}).get("restore") or {}
        merged_at = merge_event.created_at
        merged_for = deadlines.working_time_between(merged_at, now)
        moved: dict[str, list[str]] = {}
        for name in CLOCK_FIELDS:
            due = getattr(follower, name)
            if due is None:
                continue
            new_due = deadlines.add_working_time(due, merged_for)
            setattr(follower, name, new_due)
            moved[name] = [due.isoformat(), new_due.isoformat()]
        from_state = follower.state
        follower.unmerge()
        data = {
            "master_id": master.pk,
            "master_tracking_number": master.tracking_number,
            "restored_state": follower.state,
            "state_before_merge": restore.get("state", ""),
            "merged_at": merged_at.isoformat(),
            "merged_seconds": int(merged_for.total_seconds()),
            **moved,
        }
        record(
            master,
            kind="duplicate_unmerged",
            actor=user,
            reason=reason,
            data={"follower_id": follower.pk, "follower_tracking_number": follower.tracking_number},
            at=now,
        )
        commit(
            follower,
            fields=None,
            kind="unmerged",
            actor=user,
            from_state=from_state,
            to_state=follower.state,
            reason=reason,
            data=data,
            at=now,
            event_type="appeal.unmerged",
            payload={"from": from_state, "to": follower.state, "master_tracking_number": master.tracking_number},
        )
    return follower


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
