"""Messages on an appeal, and the information request (请诉求人补充材料).

``appeal_add_message`` is the authority on who may write which kind of message. Asking the
appellant for information pauses the deadline clock; their answer resumes it and moves the open
deadlines by the working time spent waiting (``appeals.services.clocks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealMessage, AppealState, Attachment, CoHandling
from appeals.services import clocks
from appeals.services.attachments import remove_files, store_attachment
from appeals.services.runner import (
    APPELLANT,
    SYSTEM,
    OwnerProof,
    check_access_code,
    commit,
    open_appeal,
    require_text,
)

Kind = AppealMessage.Kind

# States in which the appellant may still add material (before a reply has gone out).
APPELLANT_OPEN_STATES = (
    AppealState.SUBMITTED,
    AppealState.TRIAGE,
    AppealState.DISPATCHED,
    AppealState.RETURNED,
    AppealState.HANDLING,
    AppealState.REVIEW,
)
# Message kinds staff write that speak to (or for) the appellant: only the handling bureau and
# dispatchers write them. Internal notes are open to every member of staff who sees the appeal.
HANDLER_KINDS = (Kind.CONTACT, Kind.INFO_REQUEST, Kind.CO_HANDLING)
STAFF_KINDS = (Kind.INTERNAL_NOTE, *HANDLER_KINDS)


def _check_message_author(appeal: Appeal, *, kind: str, actor: Any) -> None:
    """Who may write which kind of message, in which state (raises InvalidInput/NotAllowed/StateConflict)."""
    if actor == APPELLANT:
        if kind != Kind.APPELLANT:
            raise InvalidInput(_("诉求人只能补充说明或材料。"), code="kind")
        if appeal.state not in APPELLANT_OPEN_STATES:
            raise StateConflict(_("这件诉求已答复或已结束，不能再补充材料。"), code="closed")
        return
    if actor == SYSTEM or kind not in STAFF_KINDS:
        raise InvalidInput(_("没有这种留言类型。"), code="kind")
    if perms.is_bureau_handler(appeal, actor) or perms.is_dispatcher(actor):
        return
    if kind in HANDLER_KINDS:
        raise NotAllowed(_("只有承办本诉求的单位可以联系诉求人。"), code="forbidden")
    bureau_id = perms.user_bureau_id(actor)
    sees = perms.can_view_all_appeals(actor) or (
        bureau_id is not None and CoHandling.objects.filter(appeal=appeal, bureau_id=bureau_id).exists()
    )
    if not sees:
        raise NotAllowed(_("您没有权限在这件诉求上留言。"), code="forbidden")


def appeal_add_message(
    *,
    appeal_id: int,
    kind: str,
    body: str,
    actor: Any,
    attachments: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
) -> AppealMessage:
    """Add a message (appellant supplement, internal note, contact record, info request) with files.

    The service is the authority on who may write what: the appellant adds supplements while the
    appeal is open; the handling bureau and dispatchers record contacts and ask for information;
    every member of staff who sees the appeal may add an internal note. Recording a contact sets
    ``first_contact_at`` the first time; an information request pauses the deadline clock and the
    appellant's answer resumes it (``appeals.services.clocks``).
    Raises ``InvalidInput`` (empty body, wrong kind), ``NotAllowed``, ``StateConflict``.
    """
    body = require_text(body, _("请填写内容。"))
    saved: list[Attachment] = []
    try:
        with transaction.atomic():
            appeal = open_appeal(appeal_id, expected_version=expected_version)
            _check_message_author(appeal, kind=kind, actor=actor)
            message = _write_message(appeal, kind=kind, body=body, actor=actor, attachments=attachments, saved=saved)
    except BaseException:
        remove_files(saved)
        raise
    return message


def _write_message(
    appeal: Appeal, *, kind: str, body: str, actor: Any, attachments: Sequence[UploadedFile], saved: list[Attachment]
) -> AppealMessage:
    """Create the message and its files, move the clocks it moves, and commit (the row is locked)."""
    message = AppealMessage.objects.create(
        appeal=appeal, kind=kind, body=body, author=actor if getattr(actor, "pk", None) else None
    )
    source = Attachment.Source.SUPPLEMENT if actor == APPELLANT else Attachment.Source.REPLY
    for upload in attachments:
        saved.append(store_attachment(appeal=appeal, upload=upload, source=source, message=message, user=actor))
    fields: list[str] = []
    if kind == Kind.CONTACT and appeal.first_contact_at is None:
        appeal.first_contact_at = message.created_at
        fields.append("first_contact_at")
    if kind == Kind.INFO_REQUEST:
        fields += clocks.pause_clock(appeal, at=message.created_at, actor=actor)
    elif actor == APPELLANT:
        fields += clocks.resume_clock(appeal, at=message.created_at, actor=actor)
    commit(
        appeal,
        fields=fields,
        kind=f"message.{kind}",
        actor=actor,
        data={"message_id": message.pk, "attachments": [a.pk for a in saved]},
        event_type=f"message.{kind}",
        payload={"message_id": message.pk},
    )
    return message


def appeal_request_information(
    *, appeal_id: int, user: Any, question: str, expected_version: int | None = None
) -> AppealMessage:
    """请诉求人补充材料: ask the appellant for more information; the deadline clock pauses.

    Writes the info-request message (the appellant is notified through ``message.info_request``)
    and a ``clock_paused`` event, in one transaction. Raises ``InvalidInput`` (no question),
    ``NotAllowed`` (not the officer or lead), ``StateConflict`` (not handling, already waiting).
    """
    question = require_text(question, _("请写明需要诉求人补充什么材料或信息。"))
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有这件诉求的承办人或本单位负责人可以请诉求人补充材料。"), code="forbidden")
        if appeal.state != AppealState.HANDLING:
            raise StateConflict(_("签收后、答复前才能请诉求人补充材料。"), code="wrong_state")
        if appeal.paused_at is not None:
            raise StateConflict(_("已经在等待诉求人补充材料，计时已暂停。"), code="already_paused")
        return _write_message(appeal, kind=Kind.INFO_REQUEST, body=question, actor=user, attachments=(), saved=[])


def appeal_provide_information(
    *, appeal_id: int, access_code: str | OwnerProof, body: str, attachments: Sequence[UploadedFile] = ()
) -> AppealMessage:
    """The appellant answers (补充材料); a paused clock resumes and the deadlines move.

    Checks the access code (``NotAllowed``); the message and the resumed clock commit together.
    """
    check_access_code(appeal_id, access_code)
    return appeal_add_message(
        appeal_id=appeal_id, kind=Kind.APPELLANT, body=body, actor=APPELLANT, attachments=attachments
    )
