"""Co-handling (主办/协办): the lead bureau asks another bureau for its part of the answer.

The invited bureau then sees the appeal (``appeals.selectors.access``), answers or declines; the
lead bureau still replies to the appellant.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealMessage, AppealState, CoHandling
from appeals.services.runner import commit, lock_appeal, open_appeal, require_text
from routing import deadlines
from routing.classifier import routing_setting
from routing.models import Bureau

OPEN_STATES = (AppealState.HANDLING, AppealState.REVIEW)


def cohandling_invite(
    *,
    appeal_id: int,
    user: Any,
    bureau_id: int,
    request: str,
    working_days: int | None = None,
    expected_version: int | None = None,
) -> CoHandling:
    """The lead bureau (主办) asks another bureau to co-handle (协办) a handling appeal.

    The co-handling bureau then sees the appeal and gets a ``cohandling.invited`` notification;
    its part is due ``working_days`` working days from now (default ``COHANDLING_WORKING_DAYS``).
    """
    request = require_text(request, _("请写明需要协办单位做什么，例如核实哪些情况、提供哪些意见。"))
    days = working_days if working_days is not None else routing_setting("COHANDLING_WORKING_DAYS", 3)
    if not 1 <= days <= 15:
        raise InvalidInput(_("协办时限为1至15个工作日。"), code="working_days")
    bureau = Bureau.objects.filter(pk=bureau_id, is_active=True).select_related("bureau_type").first()
    if bureau is None or bureau.is_dispatch_centre:
        raise InvalidInput(_("请选择一个有效的协办单位。"), code="bureau")
    now = timezone.now()
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有主办单位的承办人或负责人可以邀请协办。"), code="forbidden")
        if appeal.state not in OPEN_STATES:
            raise StateConflict(_("签收后、答复前才能邀请协办。"), code="wrong_state")
        if bureau.pk == appeal.bureau_id:
            raise InvalidInput(_("不能邀请本单位协办，请选择其他单位。"), code="same_bureau")
        if CoHandling.objects.filter(appeal=appeal, bureau=bureau).exists():
            raise StateConflict(_("已经邀请过这个单位协办。"), code="duplicate")
        co = CoHandling.objects.create(
            appeal=appeal,
            bureau=bureau,
            request=request,
            invited_by=user,
            due_at=deadlines.add_working_days(now, days),
            created_at=now,
        )
        commit(
            appeal,
            kind="cohandling_invited",
            actor=user,
            reason=request,
            data={"cohandling_id": co.pk, "bureau_id": bureau.pk, "bureau": bureau.name, "due_at": co.due_at},
            at=now,
            event_type="cohandling.invited",
            bureau=bureau,
            payload={"cohandling_id": co.pk},
        )
    return co


def open_cohandling_for(appeal: Appeal, user: Any) -> CoHandling | None:
    """The co-handling invitation the user's bureau has not answered yet on this appeal, if any."""
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None or not user.has_perm("appeals.handle_appeal"):
        return None
    for co in appeal.co_handlings.all():
        if co.bureau_id == bureau_id and co.status == CoHandling.Status.INVITED:
            return co
    return None


def _locked_cohandling(cohandling_id: int, user: Any) -> tuple[CoHandling, Appeal]:
    co = CoHandling.objects.select_related("bureau").filter(pk=cohandling_id).first()
    if co is None:
        raise InvalidInput(_("找不到这份协办邀请。"), code="not_found")
    appeal = lock_appeal(co.appeal_id)
    co = CoHandling.objects.select_for_update(of=("self",)).select_related("bureau").get(pk=cohandling_id)
    if not (
        user is not None
        and user.is_authenticated
        and user.has_perm("appeals.handle_appeal")
        and perms.user_bureau_id(user) == co.bureau_id
    ):
        raise NotAllowed(_("只有受邀协办单位的工作人员可以处理这份协办邀请。"), code="forbidden")
    if co.status != CoHandling.Status.INVITED:
        raise StateConflict(_("这份协办邀请已经处理过了。"), code="already_answered")
    if appeal.state not in OPEN_STATES:
        raise StateConflict(_("主办单位已经答复或这件诉求已结束，不需要再提交协办意见。"), code="closed")
    return co, appeal


def _answer(co: CoHandling, *, status: str, response: str, user: Any, at) -> None:
    co.status = status
    co.response = response
    co.responded_by = user
    co.responded_at = at
    co.save(update_fields=["status", "response", "responded_by", "responded_at"])


def cohandling_submit(*, cohandling_id: int, user: Any, response: str) -> CoHandling:
    """The co-handling bureau submits its part; the lead bureau sees it on the appeal and is told.

    Also recorded as an internal ``co_handling`` message so it shows in the lead bureau's timeline.
    """
    response = require_text(response, _("请填写协办意见。"))
    now = timezone.now()
    with transaction.atomic():
        co, appeal = _locked_cohandling(cohandling_id, user)
        _answer(co, status=CoHandling.Status.SUBMITTED, response=response, user=user, at=now)
        message = AppealMessage.objects.create(
            appeal=appeal, kind=AppealMessage.Kind.CO_HANDLING, body=response, author=user, created_at=now
        )
        commit(
            appeal,
            kind="cohandling_submitted",
            actor=user,
            data={
                "cohandling_id": co.pk,
                "bureau_id": co.bureau_id,
                "bureau": co.bureau.name,
                "message_id": message.pk,
            },
            at=now,
            event_type="cohandling.submitted",
            payload={"cohandling_id": co.pk},
        )
    return co


def cohandling_decline(*, cohandling_id: int, user: Any, reason: str) -> CoHandling:
    """The invited bureau declines (not its duty), with a reason the lead bureau sees."""
    reason = require_text(reason, _("请写明不能协办的理由，主办单位据此另行安排。"))
    now = timezone.now()
    with transaction.atomic():
        co, appeal = _locked_cohandling(cohandling_id, user)
        _answer(co, status=CoHandling.Status.DECLINED, response=reason, user=user, at=now)
        commit(
            appeal,
            kind="cohandling_declined",
            actor=user,
            reason=reason,
            data={"cohandling_id": co.pk, "bureau_id": co.bureau_id, "bureau": co.bureau.name},
            at=now,
            event_type="cohandling.declined",
            payload={"cohandling_id": co.pk},
        )
    return co
