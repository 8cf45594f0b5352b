"""Every write to an appeal goes through a service here.

A service locks the appeal row, checks the permission, runs the FSM transition, saves, appends
the audit event and records the notification in the outbox, all in one transaction. Nothing that
talks to the network runs inside the transaction; deliveries happen after commit from the outbox.

Errors a person can act on are raised as ``AppealError`` subclasses with a translated message:
``InvalidInput`` (HTTP 400), ``NotAllowed`` (403), ``StateConflict`` (409).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from appeals import access_codes, audit, enterprise_history
from appeals.models import (
    Appeal,
    AppealMessage,
    AppealState,
    Attachment,
    Enterprise,
    Extension,
    Rating,
    RatingLevel,
    Urgency,
)
from notifications import outbox
from routing import deadlines
from routing.decisions import RoutingDecision, decide
from routing.models import Bureau, Category, Region

if TYPE_CHECKING:
    from django_fsm import FSMMeta

logger = logging.getLogger(__name__)

APPELLANT = audit.APPELLANT
SYSTEM = audit.SYSTEM


class AppealError(Exception):
    """A failure the user can act on; ``message`` is shown to them."""

    status = 400

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(AppealError):
    status = 400


class NotAllowed(AppealError):
    status = 403


class StateConflict(AppealError):
    status = 409


class DuplicateSubmission(AppealError):
    """The same idempotency key was submitted twice; ``appeal`` is the one already saved."""

    status = 409

    def __init__(self, appeal: Appeal) -> None:
        super().__init__(_("这份诉求已经提交过了。"), code="duplicate")
        self.appeal = appeal


# --- Submission ------------------------------------------------------------------------------


@dataclass
class AppealSubmission:
    """Validated input for a new appeal (forms and the API validate; the service trusts types)."""

    enterprise_name: str
    credit_code: str
    region: Region
    industry: str
    enterprise_size: str
    contact_name: str
    contact_phone: str
    category: Category
    title: str
    description: str
    contact_email: str = ""
    urgency: str = Urgency.NORMAL
    urgency_reason: str = ""
    channel: str = "web"
    attachments: Sequence[UploadedFile] = field(default_factory=list)
    idempotency_key: uuid.UUID | None = None


@dataclass
class SubmittedAppeal:
    appeal: Appeal
    access_code: str


def appeal_submit(*, submission: AppealSubmission) -> SubmittedAppeal:
    """File a new appeal and route it.

    All-or-nothing: the enterprise, the appeal, its attachments, the audit events and the outbox
    rows commit together, or nothing is saved (stored files are removed again on failure).
    Routing runs in the same transaction so the appellant's first look already shows the bureau;
    if the router fails unexpectedly the appeal goes to triage rather than being lost.

    Raises ``DuplicateSubmission`` when the idempotency key was already used. The key's unique
    index decides (no lookup beforehand): a repeat fails its insert, rolls back and is answered
    with the appeal saved first, which also covers a double click racing the first request.
    """
    saved_files: list[Attachment] = []
    try:
        with transaction.atomic(), outbox.batched():
            result = _create_appeal(submission, saved_files)
    except IntegrityError:
        _remove_files(saved_files)
        if submission.idempotency_key is not None:
            existing = Appeal.objects.filter(idempotency_key=submission.idempotency_key).first()
            if existing is not None:
                raise DuplicateSubmission(existing) from None
        raise
    except BaseException:
        _remove_files(saved_files)
        raise
    audit.forget_tail(result.appeal)
    return result


# Enterprise details a submission refreshes (the latest filing's contact details win).
_ENTERPRISE_FIELDS = ("name", "region", "industry", "size", "contact_name", "phone", "email", "updated_at")


def _upsert_enterprise(submission: AppealSubmission) -> Enterprise:
    """Insert the enterprise or refresh its details, in one statement (INSERT … ON CONFLICT)."""
    enterprise = Enterprise(
        credit_code=submission.credit_code,
        name=submission.enterprise_name,
        region=submission.region,
        industry=submission.industry,
        size=submission.enterprise_size,
        contact_name=submission.contact_name,
        phone=submission.contact_phone,
        email=submission.contact_email,
    )
    Enterprise.objects.bulk_create(
        [enterprise], update_conflicts=True, unique_fields=["credit_code"], update_fields=_ENTERPRISE_FIELDS
    )
    if enterprise.pk is None:  # backends that cannot return ids from an upsert
        enterprise = Enterprise.objects.get(credit_code=submission.credit_code)
    return enterprise


def _create_appeal(submission: AppealSubmission, saved_files: list[Attachment]) -> SubmittedAppeal:
    now = timezone.now()
    enterprise = _upsert_enterprise(submission)
    decision = _safe_decide(submission)
    access_code = access_codes.new_access_code()
    tracking_number = access_codes.next_tracking_number(timezone.localdate(now))
    appeal = Appeal(
        tracking_number=tracking_number,
        access_code_hash=access_codes.hash_access_code(tracking_number, access_code),
        idempotency_key=submission.idempotency_key,
        enterprise=enterprise,
        contact_name=submission.contact_name,
        contact_phone=submission.contact_phone,
        contact_email=submission.contact_email,
        region=submission.region,
        industry=submission.industry,
        enterprise_size=submission.enterprise_size,
        category=submission.category,
        title=submission.title,
        description=submission.description,
        urgency=submission.urgency,
        urgency_reason=submission.urgency_reason,
        channel=submission.channel,
        submitted_at=now,
    )
    enterprise_history.record_filing(appeal=appeal, enterprise=enterprise)
    # Routed before the row is written, so the appeal is inserted once, already in its bureau or
    # in triage; the audit trail still records submission and routing as two events.
    from_state = appeal.state
    _route_unsaved(appeal, decision, at=now)
    appeal.save(force_insert=True)
    for upload in submission.attachments:
        saved_files.append(_store_attachment(appeal=appeal, upload=upload, source=Attachment.Source.APPEAL))
    submitted = {
        "kind": "submitted",
        "actor": APPELLANT,
        "to_state": AppealState.SUBMITTED,
        "data": {"channel": submission.channel, "category": submission.category.code},
        "at": now,
    }
    routed = _routing_records(appeal, decision, from_state=from_state, at=now)
    audit.start_tail(appeal)
    audit.record_events(appeal=appeal, events=[submitted, *routed.events])
    outbox.emit_many(
        [
            *routed.notifications,
            {
                "event_type": "appeal.submitted",
                "appeal": appeal,
                "payload": {"tracking_number": tracking_number},
                "new_appeal": True,
                # Consoles learn of a routed appeal from its dispatched/triage event.
                "broadcast": not routed.notifications,
            },
        ]
    )
    if appeal.state == AppealState.DISPATCHED:
        # Routing hook: assignment inside the bureau (pool / round robin / least loaded).
        from routing.services import auto_assign

        auto_assign(appeal, at=now)
    return SubmittedAppeal(appeal=appeal, access_code=access_code)


def _safe_decide(submission: AppealSubmission) -> RoutingDecision:
    try:
        return decide(
            category=submission.category,
            region=submission.region,
            title=submission.title,
            description=submission.description,
            urgency=submission.urgency,
        )
    except Exception:
        logger.exception("Routing failed; sending the appeal to triage.")
        return RoutingDecision(bureau=None, explanation={"reason": "router_error"})


def _start_dispatch_clock(appeal: Appeal) -> None:
    """Set the sign-for and return deadlines, which start when the appeal reaches a bureau."""
    if appeal.dispatched_at is None:
        raise RuntimeError("the dispatch clock starts after a transition that sets dispatched_at")
    deadlines_due = deadlines.dispatch_deadlines(
        at=appeal.dispatched_at, urgent=appeal.is_urgent, category=appeal.category_id
    )
    for name, value in deadlines_due.items():
        setattr(appeal, name, value)


def _route_unsaved(appeal: Appeal, decision: RoutingDecision, *, at) -> None:
    """Move a just-submitted (not yet saved) appeal to its bureau or to triage."""
    appeal.routing_rule = decision.rule
    appeal.routing_explanation = decision.explanation
    appeal.suggested_category = decision.suggested_category
    appeal.category_confidence = decision.confidence
    appeal.category_disputed = decision.disputed
    appeal.classifier_version = decision.classifier_version
    if decision.goes_to_triage:
        appeal.send_to_triage()
        return
    appeal.route(bureau=decision.bureau, at=at)
    _start_dispatch_clock(appeal)


@dataclass
class _RoutingRecords:
    events: list[dict[str, Any]] = field(default_factory=list)  # for audit.record_events
    notifications: list[dict[str, Any]] = field(default_factory=list)  # for outbox.emit_many


def _routing_records(appeal: Appeal, decision: RoutingDecision, *, from_state: str, at) -> _RoutingRecords:
    """The audit event and notification for where routing put a new appeal (none if it was not routed)."""
    records = _RoutingRecords()
    if appeal.state == AppealState.TRIAGE:
        kind, data = "triage", decision.explanation
    elif appeal.state == AppealState.DISPATCHED:
        if decision.bureau is None:
            raise RuntimeError("a dispatched appeal's routing decision names no bureau")
        kind = "dispatched"
        data = {**decision.explanation, "bureau_id": decision.bureau.pk, "bureau": decision.bureau.name}
    else:
        return records
    records.events.append(
        {"kind": kind, "actor": SYSTEM, "from_state": from_state, "to_state": appeal.state, "data": data, "at": at}
    )
    records.notifications.append({"event_type": f"appeal.{kind}", "appeal": appeal, "new_appeal": True})
    return records


def _store_attachment(
    *, appeal: Appeal, upload: UploadedFile, source: str, message: AppealMessage | None = None, user: Any = None
) -> Attachment:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        appeal=appeal,
        message=message,
        source=source,
        original_name=(upload.name or "file")[:255],
        content_type=getattr(upload, "content_type", "") or "application/octet-stream",
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
    attachment.file.save(upload.name or "file", upload, save=False)
    attachment.save()
    return attachment


def _remove_files(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        try:
            attachment.file.delete(save=False)
        except OSError:
            logger.warning("Could not remove orphaned attachment file %s", attachment.file.name)


# --- The transition runner --------------------------------------------------------------------


def _locked(appeal_id: int) -> Appeal:
    try:
        return (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("bureau", "bureau__bureau_type")
            .get(pk=appeal_id)
        )
    except Appeal.DoesNotExist:
        raise InvalidInput(_("找不到这件诉求。"), code="not_found") from None


def _state_label(state: str) -> str:
    return str(AppealState(state).label)


def _run_transition(
    *,
    appeal_id: int,
    transition: str,
    actor: Any,
    kind: str,
    action_label: str,
    kwargs: dict[str, Any] | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
    check_permission: bool = True,
    before: Callable[[Appeal], None] | None = None,
    after: Callable[[Appeal], None] | None = None,
    event_type: str | None = None,
) -> Appeal:
    """Lock, check, transition, save, audit and emit — the shape every state change shares.

    ``actor`` is a user (permission checked on the transition) or APPELLANT/SYSTEM (already
    authorised by the caller). ``before`` runs after the checks and before the transition, for
    service-specific validation; ``after`` sets derived fields (deadlines) before saving.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            appeal = _locked(appeal_id)
            if expected_version is not None and appeal.version != expected_version:
                raise StateConflict(
                    _("这件诉求刚刚被其他人更新过（现在是“%(state)s”）。请刷新页面查看最新情况后再操作。")
                    % {"state": _state_label(appeal.state)},
                    code="stale",
                )
            method = getattr(appeal, transition)
            if not can_proceed(method, check_conditions=False):
                raise StateConflict(
                    _("这件诉求现在是“%(state)s”，不能%(action)s。可能已被其他人处理，请刷新页面。")
                    % {"state": _state_label(appeal.state), "action": action_label},
                    code="wrong_state",
                )
            if check_permission and actor not in (APPELLANT, SYSTEM) and not _may(method, appeal, actor):
                raise NotAllowed(_("您没有权限%(action)s这件诉求。") % {"action": action_label}, code="forbidden")
            if before is not None:
                before(appeal)
            if not can_proceed(method):
                raise StateConflict(_("现在不能%(action)s这件诉求。") % {"action": action_label}, code="condition")
            from_state = appeal.state
            method(**(kwargs or {}))
            if after is not None:
                after(appeal)
            appeal.version += 1
            appeal.save()
            audit.record_event(
                appeal=appeal,
                kind=kind,
                actor=actor,
                from_state=from_state,
                to_state=appeal.state,
                reason=reason,
                data=data,
                at=now,
            )
            outbox.emit(event_type or f"appeal.{kind}", appeal=appeal, payload={"from": from_state, "to": appeal.state})
    except ConcurrentTransition:
        raise StateConflict(_("这件诉求刚刚被其他人处理了。请刷新页面查看最新情况。"), code="concurrent") from None
    return appeal


class _TransitionMethod(Protocol):
    """A transition method: django_fsm keeps its transitions' metadata on the function."""

    _django_fsm: FSMMeta


def _may(method: _TransitionMethod, appeal: Appeal, user: Any) -> bool:
    """The transition's permission alone (django_fsm's has_transition_perm also checks conditions,
    which would report an unmet condition such as a closed return window as a denial)."""
    return method._django_fsm.has_transition_perm(appeal, appeal.state, user)


def _require_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, code="required")
    return value


def _get_bureau(bureau_id: int) -> Bureau:
    bureau = Bureau.objects.filter(pk=bureau_id, is_active=True).first()
    if bureau is None:
        raise InvalidInput(_("请选择一个有效的承办单位。"), code="bureau")
    return bureau


# --- Dispatcher ---------------------------------------------------------------------------------


def appeal_dispatch(
    *, appeal_id: int, user: Any, bureau_id: int, note: str = "", expected_version: int | None = None
) -> Appeal:
    """A dispatcher routes an appeal from the triage queue to a bureau; deadlines start."""
    bureau = _get_bureau(bureau_id)

    def start_clock(appeal: Appeal) -> None:
        _start_dispatch_clock(appeal)
        appeal.routing_explanation = {"reason": "manual", "by": user.pk}

    appeal = _run_transition(
        appeal_id=appeal_id,
        transition="dispatch",
        actor=user,
        kind="dispatched",
        action_label=_("派单"),
        kwargs={"bureau": bureau, "at": timezone.now()},
        reason=note,
        data={"bureau_id": bureau.pk, "bureau": bureau.name, "manual": True},
        after=start_clock,
        expected_version=expected_version,
    )
    return _assign_in_bureau(appeal)


def _assign_in_bureau(appeal: Appeal) -> Appeal:
    """Routing hook after a manual dispatch: assignment inside the bureau, in its own transaction."""
    from routing.services import appeal_auto_assign

    if appeal_auto_assign(appeal_id=appeal.pk) is not None:
        appeal.refresh_from_db()
    return appeal


def appeal_reject(*, appeal_id: int, user: Any, reason: str) -> Appeal:
    """不予受理, with a reason the appellant will see."""
    reason = _require_text(reason, _("请填写不予受理的理由，诉求人会看到这段话。"))
    return _run_transition(
        appeal_id=appeal_id,
        transition="reject",
        actor=user,
        kind="rejected",
        action_label=_("不予受理"),
        kwargs={"reason": reason, "at": timezone.now()},
        reason=reason,
    )


def appeal_merge(*, appeal_id: int, user: Any, master_id: int, note: str = "") -> Appeal:
    """并单: the appeal follows ``master``'s outcome; its appellant is told."""
    if master_id == appeal_id:
        raise InvalidInput(_("不能把诉求并入它自己。"), code="self_merge")
    master = Appeal.objects.filter(pk=master_id).first()
    if master is None or master.state in (AppealState.MERGED, AppealState.REJECTED, AppealState.WITHDRAWN):
        raise InvalidInput(_("请选择一件有效的主诉求。"), code="master")
    return _run_transition(
        appeal_id=appeal_id,
        transition="merge",
        actor=user,
        kind="merged",
        action_label=_("并单"),
        kwargs={"master": master, "at": timezone.now()},
        reason=note,
        data={"master_id": master.pk, "master_tracking_number": master.tracking_number},
    )


def appeal_arbitrate_return(*, appeal_id: int, user: Any, bureau_id: int, ruling: str) -> Appeal:
    """派单异议审核: re-route a returned appeal, or send it back to the same bureau with a ruling."""
    ruling = _require_text(ruling, _("请填写审核意见。"))
    bureau = _get_bureau(bureau_id)

    appeal = _run_transition(
        appeal_id=appeal_id,
        transition="redispatch",
        actor=user,
        kind="redispatched",
        action_label=_("改派"),
        kwargs={"bureau": bureau, "at": timezone.now()},
        reason=ruling,
        data={"bureau_id": bureau.pk, "bureau": bureau.name},
        after=_start_dispatch_clock,
        event_type="appeal.dispatched",
    )
    return _assign_in_bureau(appeal)


# --- Bureau -------------------------------------------------------------------------------------


def appeal_sign_for(*, appeal_id: int, user: Any, expected_version: int | None = None) -> Appeal:
    """签收: an officer of the assigned bureau accepts the appeal; the reply clock starts.

    Two officers signing at once: the row lock serialises them and the second gets StateConflict.
    """

    def start_clock(appeal: Appeal) -> None:
        if appeal.signed_at is None:
            raise RuntimeError("the reply clock starts after the sign_for transition sets signed_at")
        for name, value in deadlines.sign_for_deadlines(
            at=appeal.signed_at, urgent=appeal.is_urgent, category=appeal.category_id
        ).items():
            setattr(appeal, name, value)

    return _run_transition(
        appeal_id=appeal_id,
        transition="sign_for",
        actor=user,
        kind="signed_for",
        action_label=_("签收"),
        kwargs={"officer": user, "at": timezone.now()},
        after=start_clock,
        expected_version=expected_version,
    )


def appeal_return(*, appeal_id: int, user: Any, reason: str, expected_version: int | None = None) -> Appeal:
    """退单: the bureau says the appeal is not its duty, inside the return window."""
    reason = _require_text(reason, _("请写明退单理由，分拨中心据此重新派单。"))

    def check_window(appeal: Appeal) -> None:
        if not appeal.within_return_window():
            raise StateConflict(
                _("已超过退单时限，按首接负责制应由本单位办理。如确属其他单位职责，可邀请协办。"), code="return_window"
            )

    return _run_transition(
        appeal_id=appeal_id,
        transition="return_to_dispatch",
        actor=user,
        kind="returned",
        action_label=_("退单"),
        reason=reason,
        before=check_window,
        expected_version=expected_version,
    )


def appeal_submit_reply(
    *,
    appeal_id: int,
    user: Any,
    reply: str,
    attachments: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
) -> Appeal:
    """Reply to the appellant, or, where the bureau requires it, submit the reply for review."""
    reply = _require_text(reply, _("请填写答复内容。"))
    appeal = Appeal.objects.select_related("bureau").get(pk=appeal_id)
    needs_review = appeal.bureau_requires_review()
    now = timezone.now()
    saved: list[Attachment] = []

    def store_files(locked: Appeal) -> None:
        for upload in attachments:
            saved.append(_store_attachment(appeal=locked, upload=upload, source=Attachment.Source.REPLY, user=user))

    try:
        if needs_review:
            return _run_transition(
                appeal_id=appeal_id,
                transition="submit_for_review",
                actor=user,
                kind="review_requested",
                action_label=_("提交审核"),
                kwargs={"reply": reply},
                after=store_files,
                expected_version=expected_version,
            )
        return _run_transition(
            appeal_id=appeal_id,
            transition="send_reply",
            actor=user,
            kind="replied",
            action_label=_("答复"),
            kwargs={"reply": reply, "at": now},
            data={"reply": reply},
            after=store_files,
            expected_version=expected_version,
        )
    except BaseException:
        _remove_files(saved)
        raise


def appeal_approve_reply(*, appeal_id: int, user: Any, expected_version: int | None = None) -> Appeal:
    """The bureau lead approves the draft reply; it goes to the appellant."""
    appeal = Appeal.objects.get(pk=appeal_id)
    return _run_transition(
        appeal_id=appeal_id,
        transition="approve_reply",
        actor=user,
        kind="replied",
        action_label=_("审核通过"),
        kwargs={"at": timezone.now()},
        data={"reply": appeal.reply, "approved": True},
        expected_version=expected_version,
    )


def appeal_send_back(*, appeal_id: int, user: Any, reason: str, expected_version: int | None = None) -> Appeal:
    """The bureau lead sends the draft reply back to the officer with a reason."""
    reason = _require_text(reason, _("请写明退回修改的意见。"))
    return _run_transition(
        appeal_id=appeal_id,
        transition="send_back",
        actor=user,
        kind="sent_back",
        action_label=_("退回修改"),
        reason=reason,
        expected_version=expected_version,
    )


def extension_request(*, appeal_id: int, user: Any, reason: str, working_days: int) -> Extension:
    """延期申请 on a handling appeal; a dispatcher decides. Limits: count and length per request."""
    reason = _require_text(reason, _("请写明延期理由。"))
    with transaction.atomic():
        appeal = _locked(appeal_id)
        from appeals import permissions as perms

        # Routing hook: the limits come from the appeal's deadline policy (category × urgency).
        max_count, max_days = deadlines.extension_limits(category=appeal.category_id, urgent=appeal.is_urgent)
        if not 1 <= working_days <= max_days:
            raise InvalidInput(_("每次延期为1至%(max)d个工作日。") % {"max": max_days}, code="length")

        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("您没有权限为这件诉求申请延期。"), code="forbidden")
        if appeal.state != AppealState.HANDLING:
            raise StateConflict(_("只有办理中的诉求可以申请延期。"), code="wrong_state")
        if appeal.extension_count >= max_count:
            raise StateConflict(
                _("这件诉求已延期%(count)d次，达到上限。") % {"count": appeal.extension_count}, code="limit"
            )
        if appeal.extensions.filter(status=Extension.Status.PENDING).exists():
            raise StateConflict(_("已有一份延期申请在审批中。"), code="pending")
        extension = Extension.objects.create(
            appeal=appeal, reason=reason, working_days=working_days, requested_by=user, previous_due=appeal.reply_due
        )
        appeal.version += 1
        appeal.save(update_fields=["version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="extension_requested",
            actor=user,
            reason=reason,
            data={"extension_id": extension.pk, "working_days": working_days},
        )
        outbox.emit("extension.requested", appeal=appeal, payload={"extension_id": extension.pk})
    return extension


def extension_decide(*, extension_id: int, user: Any, approve: bool, note: str = "") -> Extension:
    """A dispatcher approves (the reply deadline moves) or refuses an extension; the appellant is told."""
    from appeals import permissions as perms

    if not perms.is_dispatcher(user):
        raise NotAllowed(_("只有分拨员可以审批延期。"), code="forbidden")
    with transaction.atomic():
        extension = Extension.objects.select_for_update().filter(pk=extension_id).first()
        if extension is None:
            raise InvalidInput(_("找不到这份延期申请。"), code="not_found")
        appeal = _locked(extension.appeal_id)
        if extension.status != Extension.Status.PENDING:
            raise StateConflict(_("这份延期申请已经审批过了。"), code="decided")
        max_count, _max_days = deadlines.extension_limits(category=appeal.category_id, urgent=appeal.is_urgent)
        if approve and appeal.extension_count >= max_count:
            raise StateConflict(_("延期次数已达上限。"), code="limit")
        now = timezone.now()
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
        extension.decided_by = user
        extension.decided_at = now
        extension.decision_note = note
        update_fields = ["version", "updated_at"]
        if approve:
            base = appeal.reply_due or now
            extension.new_due = deadlines.extended_deadline(due=base, working_days=extension.working_days)
            appeal.reply_due = extension.new_due
            appeal.extension_count += 1
            appeal.warned_at = appeal.urged_at = appeal.supervised_at = None
            update_fields += ["reply_due", "extension_count", "warned_at", "urged_at", "supervised_at"]
        extension.save()
        appeal.version += 1
        appeal.save(update_fields=update_fields)
        audit.record_event(
            appeal=appeal,
            kind="extension_approved" if approve else "extension_refused",
            actor=user,
            reason=note,
            data={
                "extension_id": extension.pk,
                "working_days": extension.working_days,
                "new_due": extension.new_due.isoformat() if extension.new_due else None,
                "request_reason": extension.reason,
            },
        )
        outbox.emit("extension.decided", appeal=appeal, payload={"extension_id": extension.pk, "approved": approve})
    return extension


# --- Appellant ----------------------------------------------------------------------------------


def _check_appellant(appeal_id: int, access_code: str) -> None:
    appeal = Appeal.objects.filter(pk=appeal_id).only("tracking_number", "access_code_hash").first()
    if appeal is None or not access_codes.check_access_code(
        appeal.tracking_number, access_code, appeal.access_code_hash
    ):
        raise NotAllowed(_("受理编号或查询码不正确。"), code="access_code")


def appeal_withdraw(*, appeal_id: int, access_code: str, reason: str = "") -> Appeal:
    """撤回 by the appellant, before a reply has gone out."""
    _check_appellant(appeal_id, access_code)
    return _run_transition(
        appeal_id=appeal_id,
        transition="withdraw",
        actor=APPELLANT,
        kind="withdrawn",
        action_label=_("撤回"),
        kwargs={"at": timezone.now()},
        reason=reason.strip(),
    )


def appeal_rate(
    *,
    appeal_id: int,
    access_code: str | None,
    level: int,
    resolved: bool | None,
    comment: str = "",
    is_default: bool = False,
) -> Appeal:
    """The appellant rates the reply. 基本满意 or better closes the appeal; a bad rating re-opens it (重办).

    ``access_code`` None means the system is recording the default rating (see
    ``appeal_close_unrated``).
    """
    if level not in RatingLevel.values:
        raise InvalidInput(_("请选择一个评价等级。"), code="level")
    if access_code is not None:
        _check_appellant(appeal_id, access_code)
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
            return _run_transition(
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
            locked.reply_due = deadlines.rehandle_deadline(at=now, category=locked.category_id, urgent=locked.is_urgent)

        return _run_transition(
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


def appeal_add_message(
    *, appeal_id: int, kind: str, body: str, actor: Any, attachments: Sequence[UploadedFile] = ()
) -> AppealMessage:
    """Add a message (appellant supplement, internal note, contact record, info request) with files.

    The appellant may add supplements while the appeal is open; staff add notes any time.
    Recording a contact sets ``first_contact_at`` the first time.
    """
    body = _require_text(body, _("请填写内容。"))
    saved: list[Attachment] = []
    try:
        with transaction.atomic():
            appeal = _locked(appeal_id)
            if actor == APPELLANT and appeal.state not in (
                AppealState.SUBMITTED,
                AppealState.TRIAGE,
                AppealState.DISPATCHED,
                AppealState.RETURNED,
                AppealState.HANDLING,
                AppealState.REVIEW,
            ):
                raise StateConflict(_("这件诉求已答复或已结束，不能再补充材料。"), code="closed")
            message = AppealMessage.objects.create(
                appeal=appeal, kind=kind, body=body, author=actor if getattr(actor, "pk", None) else None
            )
            source = Attachment.Source.SUPPLEMENT if actor == APPELLANT else Attachment.Source.REPLY
            for upload in attachments:
                saved.append(
                    _store_attachment(appeal=appeal, upload=upload, source=source, message=message, user=actor)
                )
            update_fields = ["version", "updated_at"]
            if kind == AppealMessage.Kind.CONTACT and appeal.first_contact_at is None:
                appeal.first_contact_at = message.created_at
                update_fields.append("first_contact_at")
            # Routing hook: asking the appellant pauses the deadline clock; their answer resumes it.
            from routing.services import pause_clock, resume_clock

            if kind == AppealMessage.Kind.INFO_REQUEST:
                update_fields += pause_clock(appeal, at=message.created_at, actor=actor)
            elif actor == APPELLANT:
                update_fields += resume_clock(appeal, at=message.created_at, actor=actor)
            appeal.version += 1
            appeal.save(update_fields=update_fields)
            audit.record_event(
                appeal=appeal,
                kind=f"message.{kind}",
                actor=actor,
                data={"message_id": message.pk, "attachments": [a.pk for a in saved]},
            )
            outbox.emit(f"message.{kind}", appeal=appeal, payload={"message_id": message.pk})
    except BaseException:
        _remove_files(saved)
        raise
    return message
