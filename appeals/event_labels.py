"""Every kind of audit event (``AppealEvent.kind``) in words, for the staff timeline, console and admin.

Msgids are Simplified Chinese; English comes from the catalogue (``locale/en``).
``tests/appeals/test_event_labels.py`` reads the services' source and fails when a kind they
write has no label here (or its English label is missing or still Chinese).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

EVENT_LABELS: dict[str, Any] = {
    "submitted": _("提交诉求"),
    "triage": _("进入待分拨"),
    "dispatched": _("派单"),
    "redispatched": _("退单审核：改派"),
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
    "unmerged": _("撤销并单"),
    "duplicate_merged": _("并入一件重复诉求"),
    "duplicate_unmerged": _("重复诉求撤销并单"),
    "master_outcome": _("主诉求有了结果"),
    "extension_requested": _("申请延期"),
    "extension_approved": _("批准延期"),
    "extension_refused": _("不批准延期"),
    "deadline_warning": _("临期预警（系统）"),
    "deadline_urged": _("超期催办（系统）"),
    "deadline_supervised": _("超期督办（系统）"),
    "supervisor_urged": _("督办员催办"),
    "supervisor_supervised": _("督办员督办"),
    "first_contact_overdue": _("首次联系超时提醒"),
    "rerouted": _("改派承办单位"),
    "assignment_skipped": _("未能自动分配承办人"),
    "clock_paused": _("暂停计时"),
    "clock_resumed": _("恢复计时"),
    "followup_rated": _("追加评价"),
    "reassigned": _("改派承办人"),
    "assigned": _("分配承办人"),
    "cohandling_invited": _("邀请协办"),
    "cohandling_submitted": _("提交协办意见"),
    "cohandling_declined": _("拒绝协办"),
    "appeal_type_corrected": _("更正诉求类型"),
    "access_code_reset": _("重新发放查询码"),
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
    # Messages (``message.<AppealMessage.Kind>``); the staff timeline shows the message itself.
    "message.appellant": _("诉求人补充"),
    "message.internal_note": _("内部备注"),
    "message.info_request": _("请诉求人补充材料"),
    "message.contact": _("联系记录"),
    "message.co_handling": _("协办意见"),
}

# A 退单审核 that sends the appeal back to the bureau that returned it reads differently.
KEPT_BUREAU_LABEL = _("退单审核：维持原承办单位")


def event_label(kind: str, data: dict[str, Any] | None = None) -> str:
    """The kind in words in the active language; an unknown kind shows its code (never hidden)."""
    if kind == "redispatched" and (data or {}).get("kept"):
        return str(KEPT_BUREAU_LABEL)
    label = EVENT_LABELS.get(kind)
    return str(label) if label is not None else kind
