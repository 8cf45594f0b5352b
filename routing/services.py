"""Writes that belong to routing: re-routing, assignment inside a bureau, the paused clock,
co-handling (主办/协办) and telling merged appeals' appellants about the master's outcome.

Same shape as ``appeals.services``: lock the appeal row, check the permission, change it, save
with ``update_fields``, append the audit event and write the outbox row, in one transaction.
Errors are the ``appeals.services`` ones (``InvalidInput`` 400, ``NotAllowed`` 403,
``StateConflict`` 409) with messages that say how to fix the problem.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import audit
from appeals import permissions as perms
from appeals.models import Appeal, AppealMessage, AppealState, CoHandling
from appeals.services import InvalidInput, NotAllowed, StateConflict, appeal_add_message
from notifications import outbox
from routing import assignment, deadlines
from routing.classifier import routing_setting
from routing.models import Bureau, Category, StaffProfile, TrainingExample
from routing.roles import Role

logger = logging.getLogger(__name__)

SYSTEM = audit.SYSTEM
APPELLANT = audit.APPELLANT


def _lock(appeal_id: int) -> Appeal:
    appeal = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the bureau outer join.
        Appeal.objects.select_for_update(of=("self",))
        .select_related("bureau", "bureau__bureau_type", "category")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None:
        raise InvalidInput(_("找不到这件诉求。"), code="not_found")
    return appeal


def _state_label(state: str) -> str:
    return str(AppealState(state).label)


# --- Assignment inside a bureau -------------------------------------------------------------------


def auto_assign(appeal: Appeal, *, at: datetime | None = None) -> Any | None:
    """Assign a just-dispatched appeal inside its bureau (see ``routing.assignment``).

    The caller holds the appeal's row lock inside its transaction (the dispatch services do).
    Saves ``officer``, writes an ``assigned`` (or ``assignment_skipped``) audit event and an
    ``appeal.assigned`` outbox row. Returns the officer, or None when the appeal stays in the pool.
    """
    if appeal.state != AppealState.DISPATCHED:
        return None
    bureau = appeal.bureau
    if bureau is None or bureau.assignment_mode == Bureau.AssignmentMode.POOL:
        return None
    choice = assignment.choose_officer(bureau, category_id=appeal.category_id)
    if choice.officer is None:
        audit.record_event(
            appeal=appeal,
            kind="assignment_skipped",
            actor=SYSTEM,
            reason=_("本单位暂无可分配的承办人（均不在岗或已达在办上限），诉求留在本单位待签收。"),
            data={"mode": choice.mode, "reason": choice.reason},
            at=at,
        )
        return None
    if choice.mode == Bureau.AssignmentMode.ROUND_ROBIN:
        assignment.remember_round_robin(bureau, choice.officer.pk)
    appeal.officer = choice.officer
    appeal.save(update_fields=["officer", "updated_at"])
    audit.record_event(
        appeal=appeal,
        kind="assigned",
        actor=SYSTEM,
        data={
            "officer_id": choice.officer.pk,
            "officer": _staff_label(choice.officer),
            "mode": choice.mode,
            "candidates": choice.candidates,
        },
        at=at,
    )
    outbox.emit("appeal.assigned", appeal=appeal, payload={"officer_id": choice.officer.pk, "mode": choice.mode})
    return choice.officer


def appeal_auto_assign(*, appeal_id: int) -> Any | None:
    """Lock the appeal and run ``auto_assign`` in its own transaction (after a manual dispatch)."""
    with transaction.atomic():
        return auto_assign(_lock(appeal_id), at=timezone.now())


def _staff_label(user: Any) -> str:
    profile = getattr(user, "staff_profile", None)
    return (profile.display_name if profile and profile.display_name else "") or user.get_username()


def appeal_reassign(*, appeal_id: int, user: Any, officer_id: int, reason: str = "") -> Appeal:
    """改派承办人: the bureau lead gives an appeal to another officer of the same bureau.

    Allowed while the appeal is dispatched, handling, in review or returned. Writes a
    ``reassigned`` audit event and an ``appeal.assigned`` outbox row for the new officer.
    """
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if not perms.is_bureau_lead(appeal, user) or appeal.bureau_id is None:
            raise NotAllowed(_("只有本单位负责人可以改派承办人。"), code="forbidden")
        if appeal.state not in (AppealState.DISPATCHED, AppealState.HANDLING, AppealState.REVIEW):
            raise StateConflict(
                _("这件诉求现在是“%(state)s”，不能改派承办人。") % {"state": _state_label(appeal.state)},
                code="wrong_state",
            )
        profile = (
            StaffProfile.objects.select_related("user")
            .filter(user_id=officer_id, bureau_id=appeal.bureau_id, role__in=[Role.OFFICER, Role.LEAD])
            .first()
        )
        if profile is None or not profile.user.is_active:
            raise InvalidInput(_("请选择本单位的一名承办人。"), code="officer")
        if appeal.officer_id == officer_id:
            raise InvalidInput(_("这件诉求已经由这位承办人办理，请选择另一位。"), code="same_officer")
        previous = appeal.officer_id
        appeal.officer = profile.user
        appeal.version += 1
        appeal.save(update_fields=["officer", "version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="reassigned",
            actor=user,
            reason=reason.strip(),
            data={"from_officer_id": previous, "officer_id": officer_id, "officer": _staff_label(profile.user)},
        )
        outbox.emit("appeal.assigned", appeal=appeal, payload={"officer_id": officer_id, "mode": "lead"})
    return appeal


# --- Re-routing by a dispatcher ---------------------------------------------------------------------


def appeal_reroute(*, appeal_id: int, user: Any, bureau_id: int, reason: str, category_id: int | None = None) -> Appeal:
    """改派: a dispatcher moves a dispatched (not yet signed-for) appeal to another bureau.

    The dispatch clock restarts (sign-for and return window), the previous assignment is
    dropped and the new bureau's assignment mode applies. The appellant's category is left as
    they chose it; ``category_id`` is the category the dispatcher judges right, kept with the
    labelled example the classifier learns from (inferred from the bureau when not given).
    Appeals in triage are dispatched with ``appeal_dispatch``, returned ones arbitrated with
    ``appeal_arbitrate_return``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请写明改派理由，承办单位和诉求人会看到处理经过。"), code="required")
    bureau = Bureau.objects.select_related("bureau_type").filter(pk=bureau_id, is_active=True).first()
    if bureau is None or bureau.is_dispatch_centre:
        raise InvalidInput(_("请选择一个有效的承办单位。"), code="bureau")
    label = None
    if category_id is not None:
        label = Category.objects.filter(pk=category_id, is_active=True).first()
        if label is None:
            raise InvalidInput(_("请选择一个有效的类别。"), code="category")
    now = timezone.now()
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if not perms.is_dispatcher(user):
            raise NotAllowed(_("只有分拨员可以改派诉求。"), code="forbidden")
        if appeal.state != AppealState.DISPATCHED:
            raise StateConflict(
                _("只有已派单、尚未签收的诉求可以直接改派；这件诉求现在是“%(state)s”。")
                % {"state": _state_label(appeal.state)},
                code="wrong_state",
            )
        if appeal.bureau_id == bureau.pk:
            raise InvalidInput(_("这件诉求已经在这个单位，请选择另一个承办单位。"), code="same_bureau")
        previous = appeal.bureau
        appeal.bureau = bureau
        appeal.officer = None
        appeal.dispatched_at = now
        for name, value in deadlines.dispatch_deadlines(
            at=now, urgent=appeal.is_urgent, category=appeal.category_id
        ).items():
            setattr(appeal, name, value)
        appeal.warned_at = appeal.urged_at = appeal.supervised_at = None
        appeal.routing_rule = None
        appeal.routing_explanation = {
            **(appeal.routing_explanation or {}),
            "reason": "manual_reroute",
            "by": user.pk,
            "from_bureau_id": previous.pk if previous else None,
            "bureau_name": bureau.name,
        }
        appeal.version += 1
        appeal.save()
        data = {
            "bureau_id": bureau.pk,
            "bureau": bureau.name,
            "from_bureau_id": previous.pk if previous else None,
            "from_bureau": previous.name if previous else "",
            "manual": True,
        }
        if label is not None:
            data["label_category"] = label.code
        event = audit.record_event(
            appeal=appeal,
            kind="rerouted",
            actor=user,
            from_state=AppealState.DISPATCHED,
            to_state=AppealState.DISPATCHED,
            reason=reason,
            data=data,
            at=now,
        )
        outbox.emit("appeal.dispatched", appeal=appeal, payload={"from_bureau_id": data["from_bureau_id"]})
        example_from_event(event, appeal=appeal)
        auto_assign(appeal, at=now)
    return appeal


# --- Learning from dispatchers ------------------------------------------------------------------------

# Audit events that record a person's routing decision (manual dispatch from triage, arbitration
# after a return, re-route). Harvested by ``harvest_training_examples``.
MANUAL_ROUTING_KINDS = ("dispatched", "redispatched", "rerouted")


def infer_label(appeal: Appeal, bureau: Bureau) -> Category | None:
    """The category a dispatcher's choice of ``bureau`` implies for ``appeal``.

    The appellant's category if it belongs to that bureau type; else the only category of that
    type; else, among several, the one the classifier rates highest. None when the bureau type
    has no categories of its own (e.g. the dispatch centre).
    """
    category = appeal.category
    if not category.is_other and category.default_bureau_type_id == bureau.bureau_type_id:
        return category
    candidates = list(Category.objects.filter(default_bureau_type_id=bureau.bureau_type_id, is_active=True))
    candidates = [c for c in candidates if not c.is_other]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    from routing.classifier import classify

    scores = classify(appeal.title, appeal.description).scores
    return max(candidates, key=lambda c: scores.get(c.code, 0.0))


def example_from_event(event: Any, *, appeal: Appeal | None = None) -> TrainingExample | None:
    """Keep one manual routing event as a labelled example (idempotent on the event id)."""
    data = event.data or {}
    if event.kind not in MANUAL_ROUTING_KINDS or event.actor_kind != "staff":
        return None
    if event.kind == "dispatched" and not data.get("manual"):
        return None
    if TrainingExample.objects.filter(source_event_id=event.pk).exists():
        return None
    appeal = appeal or Appeal.objects.select_related("category").get(pk=event.appeal_id)
    label = None
    if data.get("label_category"):
        label = Category.objects.filter(code=data["label_category"]).first()
    if label is None and data.get("bureau_id"):
        bureau = Bureau.objects.filter(pk=data["bureau_id"]).first()
        label = infer_label(appeal, bureau) if bureau is not None else None
    if label is None:
        return None
    try:
        with transaction.atomic():
            return TrainingExample.objects.create(
                title=appeal.title,
                description=appeal.description,
                category=label,
                source=TrainingExample.Source.DISPATCHER,
                appeal_id=appeal.pk,
                source_event_id=event.pk,
            )
    except IntegrityError:
        return None  # harvested concurrently


def harvest_training_examples() -> int:
    """Turn every not-yet-harvested manual routing audit event into a TrainingExample.

    Manual dispatches (``appeal_dispatch``) and arbitrations (``appeal_arbitrate_return``) are
    recorded in the audit trail by ``appeals.services``; reading them back here keeps the
    learning loop out of those services. Returns the number of new examples.
    """
    from appeals.models import AppealEvent

    harvested = set(TrainingExample.objects.exclude(source_event_id=None).values_list("source_event_id", flat=True))
    events = AppealEvent.objects.filter(kind__in=MANUAL_ROUTING_KINDS, actor_kind="staff").order_by("id")
    created = 0
    for event in events.iterator():
        if event.pk in harvested:
            continue
        if example_from_event(event) is not None:
            created += 1
    return created


# --- The paused clock (waiting on the appellant) --------------------------------------------------------


def pause_clock(appeal: Appeal, *, at: datetime, actor: Any) -> list[str]:
    """Stop the deadline clock of a handling appeal (the caller holds the row lock).

    Returns the fields to save; writes a ``clock_paused`` audit event. No-op (empty list) when the
    clock already stands or the appeal is not being handled.
    """
    if appeal.paused_at is not None or appeal.state not in (AppealState.HANDLING, AppealState.REVIEW):
        return []
    appeal.paused_at = at
    audit.record_event(appeal=appeal, kind="clock_paused", actor=actor, at=at)
    return ["paused_at"]


def resume_clock(appeal: Appeal, *, at: datetime, actor: Any) -> list[str]:
    """Restart a paused clock; open deadlines move by the working-day time spent waiting.

    Returns the fields to save; writes a ``clock_resumed`` audit event with the old and new
    deadlines. No-op (empty list) when the clock is running.
    """
    if appeal.paused_at is None:
        return []
    waited = deadlines.working_time_between(appeal.paused_at, at)
    fields = ["paused_at"]
    moved: dict[str, list[str]] = {}
    for name in ("reply_due", "first_contact_due"):
        due = getattr(appeal, name)
        if due is None or (name == "first_contact_due" and appeal.first_contact_at is not None):
            continue
        new_due = deadlines.add_working_time(due, waited)
        setattr(appeal, name, new_due)
        moved[name] = [due.isoformat(), new_due.isoformat()]
        fields.append(name)
    audit.record_event(
        appeal=appeal,
        kind="clock_resumed",
        actor=actor,
        data={"paused_at": appeal.paused_at.isoformat(), "paused_seconds": int(waited.total_seconds()), **moved},
        at=at,
    )
    appeal.paused_at = None
    return fields


def appeal_request_information(*, appeal_id: int, user: Any, question: str) -> AppealMessage:
    """请诉求人补充材料: ask the appellant for more information; the deadline clock pauses.

    Writes the info-request message (the appellant is notified through ``message.info_request``)
    and a ``clock_paused`` event.
    """
    question = (question or "").strip()
    if not question:
        raise InvalidInput(_("请写明需要诉求人补充什么材料或信息。"), code="required")
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有这件诉求的承办人或本单位负责人可以请诉求人补充材料。"), code="forbidden")
        if appeal.state != AppealState.HANDLING:
            raise StateConflict(_("签收后、答复前才能请诉求人补充材料。"), code="wrong_state")
        if appeal.paused_at is not None:
            raise StateConflict(_("已经在等待诉求人补充材料，计时已暂停。"), code="already_paused")
        message = appeal_add_message(
            appeal_id=appeal_id, kind=AppealMessage.Kind.INFO_REQUEST, body=question, actor=user
        )
        appeal.refresh_from_db()
        fields = pause_clock(appeal, at=timezone.now(), actor=user)
        if fields:
            appeal.save(update_fields=[*fields, "updated_at"])
    return message


def appeal_provide_information(
    *, appeal_id: int, access_code: str, body: str, attachments: Sequence[UploadedFile] = ()
) -> AppealMessage:
    """The appellant answers (补充材料); a paused clock resumes and the deadlines move.

    Checks the access code; the message and the resumed clock commit together.
    """
    from appeals.services import _check_appellant

    _check_appellant(appeal_id, access_code)
    with transaction.atomic():
        message = appeal_add_message(
            appeal_id=appeal_id, kind=AppealMessage.Kind.APPELLANT, body=body, actor=APPELLANT, attachments=attachments
        )
        appeal = _lock(appeal_id)
        fields = resume_clock(appeal, at=timezone.now(), actor=APPELLANT)
        if fields:
            appeal.save(update_fields=[*fields, "updated_at"])
    return message


def appeal_resume_clock(*, appeal_id: int, user: Any, note: str = "") -> Appeal:
    """Staff restart a paused clock by hand (the appellant answered by phone, or will not answer)."""
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有这件诉求的承办人或本单位负责人可以恢复计时。"), code="forbidden")
        if appeal.paused_at is None:
            raise StateConflict(_("这件诉求没有暂停计时。"), code="not_paused")
        fields = resume_clock(appeal, at=timezone.now(), actor=user)
        appeal.version += 1
        appeal.save(update_fields=[*fields, "version", "updated_at"])
    return appeal


# --- Co-handling (主办/协办) ---------------------------------------------------------------------------


def cohandling_invite(
    *, appeal_id: int, user: Any, bureau_id: int, request: str, working_days: int | None = None
) -> CoHandling:
    """The lead bureau (主办) asks another bureau to co-handle (协办) a handling appeal.

    The co-handling bureau then sees the appeal (``appeals.selectors``) and gets a
    ``cohandling.invited`` notification; its part is due ``working_days`` working days from now.
    """
    request = (request or "").strip()
    if not request:
        raise InvalidInput(_("请写明需要协办单位做什么，例如核实哪些情况、提供哪些意见。"), code="required")
    days = working_days if working_days is not None else routing_setting("COHANDLING_WORKING_DAYS", 3)
    if not 1 <= days <= 15:
        raise InvalidInput(_("协办时限为1至15个工作日。"), code="working_days")
    bureau = Bureau.objects.filter(pk=bureau_id, is_active=True).select_related("bureau_type").first()
    if bureau is None or bureau.is_dispatch_centre:
        raise InvalidInput(_("请选择一个有效的协办单位。"), code="bureau")
    now = timezone.now()
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有主办单位的承办人或负责人可以邀请协办。"), code="forbidden")
        if appeal.state not in (AppealState.HANDLING, AppealState.REVIEW):
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
        appeal.version += 1
        appeal.save(update_fields=["version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="cohandling_invited",
            actor=user,
            reason=request,
            data={"cohandling_id": co.pk, "bureau_id": bureau.pk, "bureau": bureau.name, "due_at": co.due_at},
            at=now,
        )
        outbox.emit("cohandling.invited", appeal=appeal, bureau=bureau, payload={"cohandling_id": co.pk})
    return co


def _locked_cohandling(cohandling_id: int, user: Any) -> tuple[CoHandling, Appeal]:
    co = CoHandling.objects.select_related("bureau").filter(pk=cohandling_id).first()
    if co is None:
        raise InvalidInput(_("找不到这份协办邀请。"), code="not_found")
    appeal = _lock(co.appeal_id)
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
    if appeal.state not in (AppealState.HANDLING, AppealState.REVIEW):
        raise StateConflict(_("主办单位已经答复或这件诉求已结束，不需要再提交协办意见。"), code="closed")
    return co, appeal


def cohandling_submit(*, cohandling_id: int, user: Any, response: str) -> CoHandling:
    """The co-handling bureau submits its part; the lead bureau sees it on the appeal and is told.

    Also recorded as an internal ``co_handling`` message so it shows in the lead bureau's timeline.
    """
    response = (response or "").strip()
    if not response:
        raise InvalidInput(_("请填写协办意见。"), code="required")
    now = timezone.now()
    with transaction.atomic():
        co, appeal = _locked_cohandling(cohandling_id, user)
        co.status = CoHandling.Status.SUBMITTED
        co.response = response
        co.responded_by = user
        co.responded_at = now
        co.save(update_fields=["status", "response", "responded_by", "responded_at"])
        message = AppealMessage.objects.create(
            appeal=appeal, kind=AppealMessage.Kind.CO_HANDLING, body=response, author=user, created_at=now
        )
        appeal.version += 1
        appeal.save(update_fields=["version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="cohandling_submitted",
            actor=user,
            data={
                "cohandling_id": co.pk,
                "bureau_id": co.bureau_id,
                "bureau": co.bureau.name,
                "message_id": message.pk,
            },
            at=now,
        )
        outbox.emit("cohandling.submitted", appeal=appeal, payload={"cohandling_id": co.pk})
    return co


def cohandling_decline(*, cohandling_id: int, user: Any, reason: str) -> CoHandling:
    """The invited bureau declines (not its duty), with a reason the lead bureau sees."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请写明不能协办的理由，主办单位据此另行安排。"), code="required")
    now = timezone.now()
    with transaction.atomic():
        co, appeal = _locked_cohandling(cohandling_id, user)
        co.status = CoHandling.Status.DECLINED
        co.response = reason
        co.responded_by = user
        co.responded_at = now
        co.save(update_fields=["status", "response", "responded_by", "responded_at"])
        appeal.version += 1
        appeal.save(update_fields=["version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="cohandling_declined",
            actor=user,
            reason=reason,
            data={"cohandling_id": co.pk, "bureau_id": co.bureau_id, "bureau": co.bureau.name},
            at=now,
        )
        outbox.emit("cohandling.declined", appeal=appeal, payload={"cohandling_id": co.pk})
    return co


# --- Merged appeals follow their master (并单) ----------------------------------------------------------

MASTER_OUTCOMES = (AppealState.REPLIED, AppealState.CLOSED)


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
                audit.record_event(
                    appeal=follower,
                    kind="master_outcome",
                    actor=SYSTEM,
                    data={**key, "master_id": master.pk, "master_tracking_number": master.tracking_number},
                )
                outbox.emit(
                    "appeal.master_outcome",
                    appeal=follower,
                    bureau=master.bureau,
                    payload={**key, "master_id": master.pk, "master_tracking_number": master.tracking_number},
                )
                written += 1
    return written
