"""Personal data shown to staff: every unmasking and download is checked and logged here.

"Usable but not visible": phone numbers are masked unless the officer handles the appeal, and
each view or download of personal data leaves a ``PiiAccessLog`` row.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from appeals.errors import NotAllowed
from appeals.models import Appeal, Attachment, PiiAccessLog
from appeals.selectors.access import can_reveal_phone
from appeals.validators import format_phone_national


def pii_access_record(*, user: Any, appeal: Appeal | None, action: str, detail: str = "") -> PiiAccessLog:
    """Log one access to personal data of ``appeal`` (None: not an appeal's, e.g. an enterprise's) by ``user``."""
    return PiiAccessLog.objects.create(user=user, appeal=appeal, action=action, detail=detail[:200])


def appeal_reveal_phone(*, appeal: Appeal, user: Any) -> str:
    """显示号码: the appellant's phone, unmasked, for a user allowed to see it; the access is logged.

    Raises ``NotAllowed`` for staff who have not signed for the appeal (nor lead its bureau, nor
    dispatch).
    """
    if not can_reveal_phone(appeal, user):
        raise NotAllowed(_("签收这件诉求后才能查看完整电话号码。"), code="forbidden")
    pii_access_record(user=user, appeal=appeal, action="view_phone", detail=_("工作台查看诉求人电话"))
    return format_phone_national(appeal.contact_phone)


def appeal_contact_reveal_in_admin(*, appeal: Appeal, user: Any) -> dict[str, str]:
    """The appellant's full phone and e-mail for the admin's detail view; the access is logged."""
    pii_access_record(user=user, appeal=appeal, action="admin_view_contact", detail=_("后台查看诉求人电话和邮箱"))
    return {"phone": format_phone_national(appeal.contact_phone), "email": appeal.contact_email}


def enterprise_contact_reveal_in_admin(*, enterprise: Any, user: Any) -> None:
    """Log that ``user`` opened an enterprise's full phone and e-mail in the admin (to read or edit them)."""
    pii_access_record(
        user=user,
        appeal=None,
        action="admin_view_enterprise_contact",
        detail=_("后台查看企业联系方式：%(code)s") % {"code": enterprise.credit_code},
    )


def attachment_download_record(*, user: Any, appeal: Appeal, attachment: Attachment) -> None:
    """Log a staff download of an attachment (attachments often carry personal data)."""
    pii_access_record(user=user, appeal=appeal, action="attachment_download", detail=attachment.original_name)
