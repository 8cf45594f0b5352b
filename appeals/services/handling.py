"""The bureau's work on an appeal: sign for, return, reply (with the lead's review).

Messages, contact records and information requests are in ``appeals.services.messages``;
co-handling in ``appeals.services.cohandling``; extensions in ``appeals.services.clocks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.errors import StateConflict
from appeals.models import Appeal, Attachment
from appeals.services.attachments import remove_files, store_attachment
from appeals.services.runner import require_text, run_transition
from routing import deadlines


def appeal_sign_for(*, appeal_id: int, user: Any, expected_version: int | None = None) -> Appeal:
    """签收: an officer of the assigned bureau accepts the appeal; the reply clock starts.

    Two officers signing at once: the row lock serialises them and the second gets StateConflict.
    """

    def start_clock(appeal: Appeal) -> None:
        if appeal.signed_at is None:
            raise RuntimeError("the reply clock starts after the sign_for transition sets signed_at")
        due = deadlines.sign_for_deadlines(
            at=appeal.signed_at, urgent=appeal.is_urgent, category=appeal.category_id, appeal_type=appeal.appeal_type
        )
        appeal.first_contact_due = due["first_contact_due"]
        # Never later than what the business was promised when it filed.
        appeal.reply_due = deadlines.officer_reply_deadline(
            signed_at=appeal.signed_at,
            promised=appeal.promised_reply_by,
            urgent=appeal.is_urgent,
            category=appeal.category_id,
            appeal_type=appeal.appeal_type,
        )

    return run_transition(
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
    reason = require_text(reason, _("请写明退单理由，分拨中心据此重新派单。"))

    def check_window(appeal: Appeal) -> None:
        if not appeal.within_return_window():
            raise StateConflict(
                _("已超过退单时限，按首接负责制应由本单位办理。如确属其他单位职责，可邀请协办。"), code="return_window"
            )

    return run_transition(
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
    reply = require_text(reply, _("请填写答复内容。"))
    appeal = Appeal.objects.select_related("bureau").get(pk=appeal_id)
    needs_review = appeal.bureau_requires_review()
    now = timezone.now()
    saved: list[Attachment] = []

    def store_files(locked: Appeal) -> None:
        for upload in attachments:
            saved.append(store_attachment(appeal=locked, upload=upload, source=Attachment.Source.REPLY, user=user))

    try:
        if needs_review:
            return run_transition(
                appeal_id=appeal_id,
                transition="submit_for_review",
                actor=user,
                kind="review_requested",
                action_label=_("提交审核"),
                kwargs={"reply": reply},
                after=store_files,
                expected_version=expected_version,
            )
        return run_transition(
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
        remove_files(saved)
        raise


def appeal_approve_reply(*, appeal_id: int, user: Any, expected_version: int | None = None) -> Appeal:
    """The bureau lead approves the draft reply; it goes to the appellant."""
    appeal = Appeal.objects.get(pk=appeal_id)
    return run_transition(
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
    reason = require_text(reason, _("请写明退回修改的意见。"))
    return run_transition(
        appeal_id=appeal_id,
        transition="send_back",
        actor=user,
        kind="sent_back",
        action_label=_("退回修改"),
        reason=reason,
        expected_version=expected_version,
    )
