"""Filing a new appeal: one call does the enterprise, the appeal, routing, files, audit and e-mail.

The portal form and the API serializer each build an ``AppealSubmission``; ``appeal_submit`` does
the rest, including queueing the confirmation e-mail (the only message that carries the plain
access code) after commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from appeals import access_codes, audit, enterprise_history
from appeals.errors import DuplicateSubmission
from appeals.models import Appeal, AppealState, Attachment, Enterprise, Urgency
from appeals.services.assignment import auto_assign
from appeals.services.attachments import remove_files, store_attachment
from appeals.services.dispatch import start_dispatch_clock
from appeals.services.runner import APPELLANT, SYSTEM
from notifications import outbox
from notifications.services import confirmation_enqueue
from routing import deadlines
from routing.appeal_types import resolve_type
from routing.decisions import RoutingDecision, decide
from routing.models import Category, Region

logger = logging.getLogger(__name__)


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
    # The appellant's type code; blank: suggested from the text (``routing.appeal_types``).
    appeal_type: str = ""
    attachments: Sequence[UploadedFile] = field(default_factory=list)
    idempotency_key: uuid.UUID | None = None

    @classmethod
    def from_cleaned(
        cls, data: Mapping[str, Any], *, channel: str, idempotency_key: uuid.UUID | None
    ) -> AppealSubmission:
        """Build from a validated portal form's or API serializer's data (same field names)."""
        return cls(
            **{name: data[name] for name in _FROM_INPUT},
            appeal_type=data.get("appeal_type") or "",
            channel=channel,
            attachments=data.get("attachments") or [],
            idempotency_key=idempotency_key,
        )


# The fields the portal form and the API serializer validate under the same names.
_FROM_INPUT = (
    "enterprise_name",
    "credit_code",
    "region",
    "industry",
    "enterprise_size",
    "contact_name",
    "contact_phone",
    "contact_email",
    "category",
    "title",
    "description",
    "urgency",
    "urgency_reason",
)


@dataclass
class SubmittedAppeal:
    appeal: Appeal
    access_code: str


def appeal_submit(*, submission: AppealSubmission, send_email: bool = True) -> SubmittedAppeal:
    """File a new appeal and route it.

    All-or-nothing: the enterprise, the appeal, its attachments, the audit events and the outbox
    rows commit together, or nothing is saved (stored files are removed again on failure).
    Routing runs in the same transaction so the appellant's first look already shows the bureau;
    if the router fails unexpectedly the appeal goes to triage rather than being lost.
    With an e-mail address (and ``send_email``), the confirmation e-mail with the tracking number
    and access code is an outbox row in the same transaction (the code sealed, never in clear:
    ``notifications.services.confirmation_enqueue``), so no broker or worker fault can lose it.

    Raises ``DuplicateSubmission`` when the idempotency key was already used. The key's unique
    index decides (no lookup beforehand): a repeat fails its insert, rolls back and is answered
    with the appeal saved first, which also covers a double click racing the first request.
    """
    saved_files: list[Attachment] = []
    try:
        with transaction.atomic(), outbox.batched():
            result = _create_appeal(submission, saved_files)
            if send_email:
                confirmation_enqueue(appeal=result.appeal, access_code=result.access_code)
    except IntegrityError:
        remove_files(saved_files)
        if submission.idempotency_key is not None:
            existing = Appeal.objects.filter(idempotency_key=submission.idempotency_key).first()
            if existing is not None:
                raise DuplicateSubmission(existing) from None
        raise
    except BaseException:
        remove_files(saved_files)
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
        appeal_type=decision.appeal_type,
        appeal_type_suggested=decision.appeal_type_suggested,
        submitted_at=now,
    )
    appeal.promised_reply_by = deadlines.promised_reply_deadline(
        at=now, urgent=appeal.is_urgent, category=appeal.category_id, appeal_type=appeal.appeal_type
    )
    enterprise_history.record_filing(appeal=appeal, enterprise=enterprise)
    # Routed before the row is written, so the appeal is inserted once, already in its bureau or
    # in triage; the audit trail still records submission and routing as two events.
    from_state = appeal.state
    _route_unsaved(appeal, decision, at=now)
    appeal.save(force_insert=True)
    for upload in submission.attachments:
        saved_files.append(store_attachment(appeal=appeal, upload=upload, source=Attachment.Source.APPEAL))
    submitted = {
        "kind": "submitted",
        "actor": APPELLANT,
        "to_state": AppealState.SUBMITTED,
        "data": {
            "channel": submission.channel,
            "category": submission.category.code,
            "appeal_type": appeal.appeal_type,
            "appeal_type_suggested": appeal.appeal_type_suggested,
        },
        "at": now,
    }
    routed = _routing_records(appeal, decision, from_state=from_state, at=now)
    # A new row: its whole chain is written here at once (tracked in memory, one INSERT).
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
            enterprise_name=submission.enterprise_name,
            appeal_type=submission.appeal_type,
        )
    except Exception:
        logger.exception("Routing failed; sending the appeal to triage.")
        # The appeal still gets a type: the appellant's, else the suggestion from the text.
        resolved = resolve_type(submission.appeal_type, title=submission.title, description=submission.description)
        return RoutingDecision(
            bureau=None,
            explanation={"reason": "router_error", "appeal_type": resolved.appeal_type},
            appeal_type=resolved.appeal_type,
            appeal_type_suggested=resolved.suggested,
        )


def _route_unsaved(appeal: Appeal, decision: RoutingDecision, *, at: datetime) -> None:
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
    start_dispatch_clock(appeal)


@dataclass
class _RoutingRecords:
    events: list[dict[str, Any]] = field(default_factory=list)  # for audit.record_events
    notifications: list[dict[str, Any]] = field(default_factory=list)  # for outbox.emit_many


def _routing_records(appeal: Appeal, decision: RoutingDecision, *, from_state: str, at: datetime) -> _RoutingRecords:
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
