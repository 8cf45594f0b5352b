"""What the appellant does with their tracking number and access code: withdraw, rate, follow up.

The appellant's authority is the access code (``runner.check_access_code``); the default rating
(基本满意 after ``DEFAULT_RATING_DAYS`` without one) is recorded by the system through the same
``appeal_rate``. Supplements and answers to an information request are in
``appeals.services.messages``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import access_codes
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealState, Rating, RatingLevel
from appeals.services.runner import (
    APPELLANT,
    SYSTEM,
    OwnerProof,
    check_access_code,
    commit,
    open_appeal,
    run_transition,
)
from notifications import outbox, sealing
from routing import deadlines


def appeal_withdraw(*, appeal_id: int, access_code: str | OwnerProof, reason: str = "") -> Appeal:
    """撤回 by the appellant, before a reply has gone out."""
    check_access_code(appeal_id, access_code)
    return run_transition(
        appeal_id=appeal_id,
        transition="withdraw",
        actor=APPELLANT,
        kind="withdrawn",
        action_label=_("撤回"),
        kwargs={"at": timezone.now()},
        reason=reason.strip(),
    )


def _check_level(level: int) -> None:
    if level not in RatingLevel.values:
        raise InvalidInput(_("请选择一个评价等级。"), code="level")


def appeal_rate(
    *,
    appeal_id: int,
    access_code: str | OwnerProof | None,
    level: int,
    resolved: bool | None,
    comment: str = "",
    is_default: bool = False,
) -> Appeal:
    """The appellant rates the reply. 基本满意 or better closes the appeal; a bad rating re-opens it (重办).

    ``access_code`` None means the system is recording the default rating (see
    ``appeal_close_unrated``).
    """
    _check_level(level)
    if access_code is not None:
        check_access_code(appeal_id, access_code)
    actor = SYSTEM if is_default else APPELLANT
    now = timezone.now()
    comment = (comment or "").strip()

    def record_rating(appeal: Appeal) -> None:
        if appeal.ratings.filter(round=appeal.reopen_count, is_followup=False).exists():
            raise StateConflict(_("这次答复已经评价过了。"), code="already_rated")
        Rating.objects.create(
            appeal=appeal,
            level=level,
            resolved=resolved,
            comment=comment,
            is_default=is_default,
            round=appeal.reopen_count,
            created_at=now,
        )
        appeal.rating_level = level

    data = {"level": level, "resolved": resolved, "default": is_default}
    with transaction.atomic():
        appeal = Appeal.objects.get(pk=appeal_id)
        bad = level <= RatingLevel.DISSATISFIED
        if not bad:
            return run_transition(
                appeal_id=appeal_id,
                transition="close",
                actor=actor,
                kind="closed",
                action_label=_("评价"),
                kwargs={"at": now},
                reason=comment,
                data=data,
                before=record_rating,
                event_type="appeal.rated",
            )

        def new_deadline(locked: Appeal) -> None:
            locked.reply_due = deadlines.rehandle_deadline(
                at=now, category=locked.category_id, urgent=locked.is_urgent, appeal_type=locked.appeal_type
            )
            locked.promised_reply_by = locked.reply_due  # the status page tells the business this date

        return run_transition(
            appeal_id=appeal_id,
            transition="reopen",
            actor=actor,
            kind="reopened",
            action_label=_("评价"),
            reason=comment,
            data={**data, "reopen_count": appeal.reopen_count + 1},
            before=record_rating,
            after=new_deadline,
            event_type="appeal.reopened",
        )


def appeal_close_unrated(*, appeal_id: int) -> Appeal | None:
    """Close a replied appeal left unrated past the default-rating period as 基本满意 (default).

    Idempotent: returns None when the appeal was rated or closed meanwhile, or is not yet due.
    """
    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is None or appeal.state != AppealState.REPLIED or appeal.rating_level is not None:
        return None
    if not appeal.has_closing_rating():
        return None
    try:
        return appeal_rate(
            appeal_id=appeal_id,
            access_code=None,
            level=RatingLevel.BASICALLY_SATISFIED,
            resolved=None,
            is_default=True,
        )
    except StateConflict:
        return None


def appeal_followup_rate(
    *, appeal_id: int, access_code: str | OwnerProof, level: int, resolved: bool | None, comment: str = ""
) -> Rating:
    """Record the appellant's single follow-up rating (追评) on a closed, rated appeal.

    A follow-up does not change the appeal's state: it adds a rating row marked ``is_followup``
    to the latest round, for the bureau's scorecard and for reviewers.
    Side effects: a ``Rating`` with ``is_followup=True``, an audit event ``followup_rated`` and an
    outbox event ``appeal.followup_rated``, in one transaction.
    Raises ``InvalidInput`` (bad level), ``NotAllowed`` (wrong access code) or ``StateConflict``
    (not closed by a rating yet, or a follow-up already given).
    """
    _check_level(level)
    comment = (comment or "").strip()
    now = timezone.now()
    check_access_code(appeal_id, access_code)
    with transaction.atomic():
        appeal = open_appeal(appeal_id)
        if appeal.state != AppealState.CLOSED or not appeal.ratings.filter(is_followup=False).exists():
            raise StateConflict(_("诉求办结后才能追加评价。"), code="not_closed")
        if appeal.ratings.filter(is_followup=True).exists():
            raise StateConflict(_("每件诉求只能追加评价一次，您已经追评过了。"), code="already_followed_up")
        rating = Rating.objects.create(
            appeal=appeal,
            level=level,
            resolved=resolved,
            comment=comment,
            is_followup=True,
            round=appeal.reopen_count,
            created_at=now,
        )
        commit(
            appeal,
            kind="followup_rated",
            actor=APPELLANT,
            reason=comment,
            data={"level": level, "resolved": resolved, "rating_id": rating.pk},
            at=now,
            event_type="appeal.followup_rated",
            payload={"rating_id": rating.pk, "level": level},
        )
    return rating


ACCESS_CODE_RESET_EVENT = "appeal.access_code_reset"


def appeal_reset_access_code(*, appeal_id: int, verified_phone: str, language: str) -> Appeal:
    """Issue a new access code for an appeal whose contact phone the appellant just verified by SMS.

    ``verified_phone`` is the E.164 number proven with a one-time code (``appeals.services.selfservice``);
    it must be this appeal's contact phone, else ``NotAllowed``. The old code stops working at once,
    and so do the signed links sent before (their access version changes, ``notifications.links``).
    The new code is never shown on screen: it is sent by SMS to the contact phone, sealed in the
    outbox row (``notifications.sealing``) and wiped once sent.
    Side effects: ``access_code_hash`` updated, an audit event ``access_code_reset`` and the outbox row
    ``appeal.access_code_reset`` (not broadcast: staff see nothing change), in one transaction.
    The appeal's version is not bumped, so a bureau officer's open form stays valid.
    """
    code = access_codes.new_access_code()
    with transaction.atomic():
        appeal = open_appeal(appeal_id)
        if not verified_phone or appeal.contact_phone != verified_phone:
            raise NotAllowed(_("这件诉求的联系电话不是您验证的号码。"), code="phone")
        appeal.access_code_hash = access_codes.hash_access_code(appeal.tracking_number, code)
        commit(
            appeal,
            kind="access_code_reset",
            fields=["access_code_hash"],
            bump_version=False,
            actor=APPELLANT,
            reason=_("联系电话短信验证后重新发放查询码"),
        )
        outbox.emit(
            ACCESS_CODE_RESET_EVENT,
            appeal=appeal,
            payload={"sealed_code": sealing.seal(code), "language": language},
            broadcast=False,
        )
    return appeal
