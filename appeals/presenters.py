"""What the appellant sees of an appeal: plain-language sentences from the audit trail.

Only events listed in ``_SENTENCES`` are shown; anything else (internal notes, co-handling,
reviews inside the bureau, reassignment, kinds added later) stays hidden by default. Staff are
never named: the appellant sees the bureau. Used by the portal status page and the API lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from appeals.models import Appeal, AppealEvent, AppealMessage, AppealState, Attachment, RatingLevel
from routing import deadlines
from routing.appeal_types import AppealType
from routing.models import Bureau


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: datetime
    text: str
    detail: str = ""


def _level_label(level) -> str:
    try:
        return str(RatingLevel(int(level)).label)
    except (TypeError, ValueError):
        return ""


def _bureau_name(data: dict, bureaus: dict[int, Bureau]) -> str:
    bureau_id = data.get("bureau_id")
    bureau = bureaus.get(bureau_id) if bureau_id is not None else None
    if bureau is not None:
        return bureau.display_name
    return str(data.get("bureau") or _("承办单位"))


def _format_due(value) -> str:
    due = parse_datetime(value) if isinstance(value, str) else value
    return deadlines.format_local(due)


def _sentence(event: AppealEvent, bureaus: dict[int, Bureau], info_requests: dict[int, str]) -> TimelineEntry | None:
    data = event.data or {}
    kind = event.kind
    text = ""
    detail = ""
    if kind == "submitted":
        text = _("您提交了诉求，平台已受理。")
    elif kind == "triage":
        text = _("诉求已交由分拨中心人工分派。")
    elif kind in ("dispatched", "redispatched", "rerouted"):
        text = _("诉求已派给%(bureau)s办理。") % {"bureau": _bureau_name(data, bureaus)}
    elif kind == "signed_for":
        text = _("承办单位已签收，正在办理。")
    elif kind == "appeal_type_corrected":
        code = data.get("to", "")
        label = AppealType(code).label if code in AppealType.values else code
        text = _("工作人员把诉求类型更正为“%(type)s”。") % {"type": label}
    elif kind == "message.contact":
        text = _("承办单位已与您联系。")
    elif kind == "message.info_request":
        text = _("承办单位请您补充材料。")
        message_id = data.get("message_id")
        detail = info_requests.get(message_id, "") if message_id is not None else ""
    elif kind == "message.appellant":
        text = _("您补充了说明或材料。")
    elif kind == "extension_approved":
        text = _("答复时限延长至%(date)s。") % {"date": _format_due(data.get("new_due"))}
        reason = data.get("request_reason") or ""
        detail = _("延期原因：%(reason)s") % {"reason": reason} if reason else ""
    elif kind == "replied":
        text = _("承办单位已答复。")
        detail = data.get("reply") or ""
    elif kind == "closed":
        if data.get("default"):
            text = _("%(days)d天内未评价，系统按“基本满意”默认评价，诉求已办结。") % {
                "days": settings.HUYING["DEFAULT_RATING_DAYS"]
            }
        else:
            text = _("您评价为“%(level)s”，诉求已办结。") % {"level": _level_label(data.get("level"))}
    elif kind == "reopened":
        text = _("您评价为“%(level)s”，诉求已重新交办（重办）。") % {"level": _level_label(data.get("level"))}
    elif kind == "followup_rated":
        text = _("您追加了评价：“%(level)s”。") % {"level": _level_label(data.get("level"))}
    elif kind == "withdrawn":
        text = _("您撤回了诉求。")
    elif kind == "rejected":
        text = _("诉求不予受理。")
        detail = event.reason
    elif kind == "merged":
        text = _("诉求与同一问题的其他诉求合并办理，答复会在这里显示。")
    elif kind == "unmerged":
        text = _("经核实，您的诉求与其他诉求并非同一问题，已撤销合并，将单独办理。")
    elif kind == "master_outcome":
        text = _("与您的诉求合并办理的诉求 %(number)s 已有办理结果。") % {
            "number": data.get("master_tracking_number", "")
        }
    elif kind == "access_code_reset":
        text = _("联系电话经短信验证后，查询码已重新发放；原查询码和之前的链接已失效。")
    elif kind in ("deadline_urged", "deadline_supervised", "supervisor_urged", "supervisor_supervised"):
        text = _("平台已督促承办单位抓紧办理。")
    if not text:
        return None
    return TimelineEntry(kind=kind, at=event.created_at, text=text, detail=detail)


def timeline(appeal: Appeal, events: Iterable[AppealEvent]) -> list[TimelineEntry]:
    """The appellant's timeline, oldest first. Never includes internal notes or staff names."""
    events = list(events)
    bureau_ids = {bureau_id for e in events if isinstance(e.data, dict) and (bureau_id := e.data.get("bureau_id"))}
    bureaus = {b.pk: b for b in Bureau.objects.filter(pk__in=bureau_ids)} if bureau_ids else {}
    info_requests = dict(
        AppealMessage.objects.filter(appeal=appeal, kind=AppealMessage.Kind.INFO_REQUEST).values_list("pk", "body")
    )
    entries = []
    for event in events:
        entry = _sentence(event, bureaus, info_requests)
        if entry is not None:
            entries.append(entry)
    return entries


def visible_attachments(appeal: Appeal) -> dict[str, list[Attachment]]:
    """The appellant's own files and the files the bureau sent with its reply (not internal ones)."""
    files = Attachment.objects.filter(appeal=appeal).select_related("message").order_by("created_at", "id")
    mine: list[Attachment] = []
    replies: list[Attachment] = []
    for attachment in files:
        if attachment.source in (Attachment.Source.APPEAL, Attachment.Source.SUPPLEMENT):
            mine.append(attachment)
        elif attachment.source == Attachment.Source.REPLY and (
            attachment.message is None or attachment.message.kind == AppealMessage.Kind.INFO_REQUEST
        ):
            replies.append(attachment)
    return {"mine": mine, "replies": replies}


@dataclass
class Supplement:
    """One supplement the appellant added on the tracking page, with the files sent with it."""

    message: AppealMessage
    files: list[Attachment]


def appellant_supplements(appeal: Appeal, attachments: Iterable[Attachment]) -> list[Supplement]:
    """The appellant's own supplements (补充说明或材料), oldest first, each with its files.

    ``attachments`` are the appellant's visible files (``visible_attachments(appeal)["mine"]``), so the
    files are not read twice. Staff messages are never included.
    """
    by_message: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        if attachment.message_id is not None:
            by_message.setdefault(attachment.message_id, []).append(attachment)
    return [
        Supplement(message=message, files=by_message.get(message.pk, []))
        for message in AppealMessage.objects.filter(appeal=appeal, kind=AppealMessage.Kind.APPELLANT).order_by(
            "created_at", "id"
        )
    ]


def appellant_may_see(attachment: Attachment) -> bool:
    if attachment.source in (Attachment.Source.APPEAL, Attachment.Source.SUPPLEMENT):
        return True
    if attachment.source != Attachment.Source.REPLY:
        return False
    return attachment.message is None or attachment.message.kind == AppealMessage.Kind.INFO_REQUEST


def current_deadline(appeal: Appeal) -> tuple[str, datetime | None]:
    """What the appellant is waiting for next and by when (label, due), or ("", None)."""
    if appeal.state in (AppealState.SUBMITTED, AppealState.TRIAGE, AppealState.DISPATCHED, AppealState.RETURNED):
        return _("预计最迟答复时间"), expected_reply_by(appeal)
    if appeal.state in (AppealState.HANDLING, AppealState.REVIEW):
        return _("答复时限"), expected_reply_by(appeal)
    if appeal.state == AppealState.REPLIED and appeal.replied_at:
        return _("请在此时间前评价"), appeal.replied_at + timedelta(days=settings.HUYING["DEFAULT_RATING_DAYS"])
    return "", None


def expected_reply_by(appeal: Appeal) -> datetime:
    """The reply date promised to the business: the one date every page, message and API shows.

    It is ``appeal.promised_reply_by``, computed once at filing by
    ``routing.deadlines.promised_reply_deadline`` (and moved only by an extension, re-handling or a
    paused clock). Appeals filed before the promise was stored fall back to their reply deadline,
    else to the same computation from the filing time.
    """
    if appeal.promised_reply_by:
        return appeal.promised_reply_by
    if appeal.reply_due:
        return appeal.reply_due
    return deadlines.promised_reply_deadline(
        at=appeal.submitted_at, urgent=appeal.is_urgent, category=appeal.category_id, appeal_type=appeal.appeal_type
    )
