"""Writes of the follow-up module: recording a call's outcome, and deciding a contested rating.

Every outcome is an audit event on the appeal (``followup_*``). Outcomes that change the appeal
need a reason: "not resolved" re-opens it (重办) through the same transition path as a bad rating,
with a new re-handling deadline; "contests the rating" marks the rating 申诉复核中 and puts it in
the dispatch centre's review queue (``rating_contest_decide``), where an upheld contest takes the
rating out of the bureau's figures.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, Rating
from appeals.services.runner import commit, open_appeal, require_text, run_transition
from followup.models import FollowUp, FollowUpOutcome, FollowUpState
from routing import deadlines

# Outcomes that change the appeal or its rating, so a reason is required.
NEEDS_REASON = (FollowUpOutcome.NOT_RESOLVED, FollowUpOutcome.CONTESTED)


def can_follow_up(user: Any) -> bool:
    """The dispatch centre makes the calls and reviews contested ratings."""
    return bool(user.is_authenticated and user.has_perm("appeals.dispatch_appeal"))


def _check_user(user: Any) -> None:
    if not can_follow_up(user):
        raise NotAllowed(_("只有分拨中心的工作人员可以登记回访结果。"), code="forbidden")


def _event(appeal: Appeal, *, kind: str, user: Any, reason: str, data: dict[str, Any], at) -> None:
    # An event about the appeal: the row itself does not change, so a colleague's open form survives.
    commit(appeal, kind=kind, fields=[], bump_version=False, actor=user, reason=reason, data=data, at=at)


def followup_record_outcome(*, user: Any, followup_id: int, outcome: str, note: str = "") -> FollowUp:
    """Record the outcome of one follow-up call.

    * ``resolved``: the follow-up is done (event ``followup_resolved``);
    * ``not_resolved`` (reason required): done, and the closed appeal is re-opened for re-handling
      (events ``followup_not_resolved`` then ``reopened``, outbox ``appeal.reopened``);
    * ``contested`` (reason required): done, the closing rating is marked 申诉复核中 for review
      (event ``followup_contested``);
    * ``not_reached``: one more attempt (event ``followup_not_reached``); after
      ``FOLLOW_UP["MAX_ATTEMPTS"]`` attempts the follow-up closes as unreachable
      (event ``followup_unreachable``).

    All in one transaction. Raises ``NotAllowed`` (not a dispatcher), ``InvalidInput`` (unknown
    outcome, missing reason, no rating to contest) and ``StateConflict`` (already recorded by a
    colleague; the appeal is no longer closed).
    """
    _check_user(user)
    if outcome not in FollowUpOutcome.values:
        raise InvalidInput(_("请选择回访结果。"), code="outcome")
    note = (note or "").strip()
    if outcome == FollowUpOutcome.NOT_RESOLVED:
        note = require_text(note, _("问题未解决会让诉求重新办理，请写明诉求人反映的情况。"))
    elif outcome == FollowUpOutcome.CONTESTED:
        note = require_text(note, _("请写明诉求人对评价有什么异议，复核时要看。"))
    now = timezone.now()
    with transaction.atomic():
        followup = FollowUp.objects.select_for_update().filter(pk=followup_id).first()
        if followup is None:
            raise InvalidInput(_("找不到这条回访。"), code="not_found")
        if followup.state != FollowUpState.PENDING:
            raise StateConflict(_("这条回访已经登记过结果了，请刷新页面。"), code="done")
        appeal = open_appeal(followup.appeal_id)
        data: dict[str, Any] = {"followup_id": followup.pk, "outcome": outcome}
        if outcome == FollowUpOutcome.NOT_REACHED:
            followup.attempts += 1
            followup.last_attempt_at = now
            data["attempts"] = followup.attempts
            fields = ["attempts", "last_attempt_at"]
            if followup.attempts >= settings.FOLLOW_UP["MAX_ATTEMPTS"]:
                followup.state = FollowUpState.UNREACHABLE
                followup.outcome = outcome
                followup.completed_by = user
                followup.completed_at = now
                followup.note = note
                fields += ["state", "outcome", "completed_by", "completed_at", "note"]
                kind = "followup_unreachable"
            else:
                kind = "followup_not_reached"
            followup.save(update_fields=fields)
            _event(appeal, kind=kind, user=user, reason=note, data=data, at=now)
            return followup
        if outcome == FollowUpOutcome.CONTESTED:
            rating = _contestable_rating(followup, appeal)
            rating.contest = Rating.Contest.PENDING
            rating.contest_reason = note
            rating.save(update_fields=["contest", "contest_reason"])
            data.update({"rating_id": rating.pk, "level": rating.level, "default": rating.is_default})
        followup.state = FollowUpState.DONE
        followup.outcome = outcome
        followup.note = note
        followup.completed_by = user
        followup.completed_at = now
        followup.save(update_fields=["state", "outcome", "note", "completed_by", "completed_at"])
        _event(appeal, kind=f"followup_{outcome}", user=user, reason=note, data=data, at=now)
        if outcome == FollowUpOutcome.NOT_RESOLVED:
            _reopen(appeal, user=user, note=note, followup=followup, at=now)
    return followup


def _contestable_rating(followup: FollowUp, appeal: Appeal) -> Rating:
    rating = (
        Rating.objects.select_for_update()
        .filter(appeal=appeal, round=followup.round, is_followup=False)
        .order_by("-created_at")
        .first()
    )
    if rating is None:
        raise InvalidInput(_("这件诉求没有可以复核的评价。"), code="no_rating")
    if rating.contest:
        raise StateConflict(_("这条评价已经在复核或复核过了。"), code="contested")
    return rating


def _reopen(appeal: Appeal, *, user: Any, note: str, followup: FollowUp, at) -> Appeal:
    """重办 through the transition path a bad rating takes: new deadline, ``reopened`` event and outbox row."""

    def new_deadline(locked: Appeal) -> None:
        locked.reply_due = deadlines.rehandle_deadline(at=at, category=locked.category_id, urgent=locked.is_urgent)

    return run_transition(
        appeal_id=appeal.pk,
        transition="reopen_after_followup",
        actor=user,
        kind="reopened",
        action_label=_("重办"),
        reason=note,
        data={"followup_id": followup.pk, "reopen_count": appeal.reopen_count + 1, "source": "followup"},
        after=new_deadline,
        event_type="appeal.reopened",
    )


def rating_contest_decide(*, user: Any, rating_id: int, uphold: bool, reason: str) -> Rating:
    """Decide a contested rating (申诉复核) raised by a follow-up call.

    Upheld: the rating no longer counts in the bureau's figures (``contest=upheld``; the analytics
    rollups re-read the appeal because of the audit event). Dismissed: it counts as before. Either
    way a reason is required and the decision is an audit event (``rating_contest_upheld`` /
    ``rating_contest_dismissed``). Raises ``NotAllowed``, ``InvalidInput`` and ``StateConflict``
    (already decided).
    """
    _check_user(user)
    reason = require_text(reason, _("请写明复核意见。"))
    now = timezone.now()
    with transaction.atomic():
        rating = Rating.objects.filter(pk=rating_id).only("appeal_id").first()
        if rating is None:
            raise InvalidInput(_("找不到这条评价。"), code="not_found")
        appeal = open_appeal(rating.appeal_id)
        rating = Rating.objects.select_for_update().get(pk=rating_id)
        if rating.contest != Rating.Contest.PENDING:
            raise StateConflict(_("这条评价的复核已经有结论了，请刷新页面。"), code="decided")
        rating.contest = Rating.Contest.UPHELD if uphold else Rating.Contest.DISMISSED
        rating.save(update_fields=["contest"])
        _event(
            appeal,
            kind="rating_contest_upheld" if uphold else "rating_contest_dismissed",
            user=user,
            reason=reason,
            data={"rating_id": rating.pk, "level": rating.level, "default": rating.is_default},
            at=now,
        )
    return rating
