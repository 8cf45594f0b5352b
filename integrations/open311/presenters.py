"""What Open311 shows of an appeal. Appeals are not public records: only non-personal fields.

Returned: the tracking number, ``open``/``closed`` with a status note, the category (service),
the responsible bureau, the filing/update/expected times and the region's name as ``address``.
Withheld, always: enterprise name, credit code, contact person, phone, e-mail, the exact address,
coordinates, attachments and the reply — they identify a business or a person. The appeal text
(``description``) is shown only when the appellant consented (``attribute[public_consent]=yes``);
otherwise it is an empty string. docs/integrations.md lists the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import presenters as appellant_view
from appeals.models import OPEN_STATES, Appeal, AppealState

S = AppealState


def status(appeal: Appeal) -> str:
    """``open`` while the appeal waits for an answer (re-opened appeals too), ``closed`` otherwise."""
    return "open" if appeal.state in OPEN_STATES else "closed"


def status_notes(appeal: Appeal) -> str:
    notes = {
        S.SUBMITTED: _("已受理，正在分派。"),
        S.TRIAGE: _("已受理，分拨中心正在分派承办单位。"),
        S.DISPATCHED: _("已派至承办单位，等待签收。"),
        S.RETURNED: _("承办单位认为不属本单位职责，分拨中心正在重新分派。"),
        S.HANDLING: _("承办单位正在办理。"),
        S.REVIEW: _("承办单位正在审核答复。"),
        S.REPLIED: _("承办单位已答复，等待诉求人评价。"),
        S.CLOSED: _("已办结。"),
        S.WITHDRAWN: _("诉求人已撤回。"),
        S.REJECTED: _("不予受理，理由已告知诉求人。"),
        S.MERGED: _("已与同一问题的其他诉求合并办理。"),
    }
    note = str(notes.get(S(appeal.state), ""))
    if appeal.reopen_count and appeal.state in OPEN_STATES:
        note = _("差评后重新办理（第%(n)d次）。%(note)s") % {"n": appeal.reopen_count, "note": note}
    return note


def w3(value: datetime | None) -> str | None:
    """W3C date-time with offset, as the specification requires (e.g. 2026-12-02T10:15:30+08:00)."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def request_fields(appeal: Appeal) -> dict[str, Any]:
    """One ``service_requests/request`` entry."""
    open311 = getattr(appeal, "open311", None)
    consented = bool(open311 is not None and open311.public_description)
    expected = None
    if appeal.state in OPEN_STATES:
        expected = appellant_view.expected_reply_by(appeal)
    updated = appeal.closed_at if appeal.state == S.CLOSED and appeal.closed_at else appeal.updated_at
    return {
        "service_request_id": appeal.tracking_number,
        "status": status(appeal),
        "status_notes": status_notes(appeal),
        "service_name": appeal.category.display_name,
        "service_code": appeal.category.code,
        "description": appeal.description if consented else "",
        "agency_responsible": appeal.bureau.display_name if appeal.bureau is not None else _("分拨中心"),
        "service_notice": "",
        "requested_datetime": w3(appeal.submitted_at),
        "updated_datetime": w3(updated),
        "expected_datetime": w3(expected),
        "address": appeal.region.display_name,
    }
