"""The staff timeline of an appeal: audit events and messages in time order, with labels.

``EVENT_LABELS`` names every kind of audit event the services write (``appeals.services``); a
kind without a label shows its code, so a new kind is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, AppealEvent, AppealState

EVENT_LABELS: dict[str, Any] = {
    "submitted": _("提交诉求"),
    "triage": _("进入待分拨"),
    "dispatched": _("派单"),
    "redispatched": _("改派"),
    "signed_for": _("签收"),
    "returned": _("退单"),
    "review_requested": _("提交审核"),
    "sent_back": _("退回修改"),
    "replied": _("答复"),
    "closed": _("办结"),
    "reopened": _("重办"),
    "withdrawn": _("撤回"),
    "rejected": _("不予受理"),
    "merged": _("并单"),
    "extension_requested": _("申请延期"),
    "extension_approved": _("批准延期"),
    "extension_refused": _("不批准延期"),
    "deadline_warning": _("临期预警"),
    "deadline_urged": _("催办"),
    "deadline_supervised": _("督办"),
    "first_contact_overdue": _("首次联系超时提醒"),
    "rerouted": _("改派"),
    "assignment_skipped": _("未能自动分配承办人"),
    "clock_paused": _("暂停计时"),
    "clock_resumed": _("恢复计时"),
    "master_outcome": _("主诉求有了结果"),
    "followup_rated": _("追加评价"),
    "reassigned": _("改派承办人"),
    "assigned": _("分配承办人"),
    "cohandling_invited": _("邀请协办"),
    "cohandling_submitted": _("提交协办意见"),
    "cohandling_declined": _("拒绝协办"),
    # Follow-up calls (followup.services) and contested ratings.
    "followup_resolved": _("回访：问题已解决"),
    "followup_not_resolved": _("回访：问题未解决"),
    "followup_contested": _("回访：对评价有异议"),
    "followup_not_reached": _("回访：未联系上"),
    "followup_unreachable": _("回访：多次联系不上"),
    "rating_contest_upheld": _("评价复核：申诉成立"),
    "rating_contest_dismissed": _("评价复核：申诉不成立"),
    # Problem tickets (problems.services).
    "problem_flagged": _("标记为问题工单"),
    "problem_reflagged": _("再次标记为问题工单"),
    "problem_owner_assigned": _("指派协调负责人"),
    "problem_resolved": _("解除问题工单"),
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "event" or "message"
    internal: bool
    item: Any
    label: str = ""
    state_label: str = ""


def appeal_timeline(*, appeal: Appeal) -> list[TimelineEntry]:
    """Audit events and messages merged in time order; internal notes are flagged as internal."""
    events = AppealEvent.objects.filter(appeal=appeal).select_related("actor__staff_profile").order_by("seq")
    messages = (
        appeal.messages.select_related("author__staff_profile").prefetch_related("attachments").order_by("created_at")
    )
    entries = [
        TimelineEntry(
            at=e.created_at,
            kind="event",
            internal=False,
            item=e,
            label=str(EVENT_LABELS.get(e.kind, e.kind)),
            state_label=str(AppealState(e.to_state).label) if e.to_state in AppealState.values else "",
        )
        for e in events
        if not e.kind.startswith("message.")  # the message itself is shown instead
    ]
    entries += [TimelineEntry(at=m.created_at, kind="message", internal=m.is_internal, item=m) for m in messages]
    entries.sort(key=lambda entry: (entry.at, 0 if entry.kind == "event" else 1))
    return entries
