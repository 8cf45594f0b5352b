"""Which events notify whom, by which channels by default.

One table for every notifiable event type, read by the recipient resolver (``notifications.recipients``),
the preferences page and the docs. Staff can switch any (event × channel) on or off; the defaults here
apply when they have not. Appellants have no account and no preferences: they get the channels listed
under ``appellant`` when the appeal has a phone number or an e-mail address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from notifications.models import Channel

INBOX, EMAIL, SMS = Channel.INBOX.value, Channel.EMAIL.value, Channel.SMS.value


@dataclass(frozen=True)
class EventSpec:
    label: object  # lazy translation
    # Staff audiences, resolved in notifications.recipients: "bureau_staff", "officer", "bureau_leads",
    # "dispatchers", "supervisors", "managers", "requester", "cohandling_staff".
    audiences: tuple[str, ...] = ()
    staff_defaults: frozenset[str] = frozenset({INBOX})
    appellant: tuple[str, ...] = ()
    # Staff may switch these channels on for this event (SMS only where it can be urgent).
    staff_channels: tuple[str, ...] = (INBOX, EMAIL)
    extra: dict = field(default_factory=dict)


# Deadline events come from the deadline sweep (routing); these names are recognised.
DEADLINE_EVENTS = frozenset({"deadline.warning", "deadline.urged", "deadline.supervised", "deadline.first_contact"})

EVENTS: dict[str, EventSpec] = {
    "appeal.submitted": EventSpec(_("诉求已受理"), appellant=(SMS,)),
    # The e-mail with the tracking number and the access code (sealed in the payload, notifications.sealing).
    "appeal.confirmation": EventSpec(_("诉求提交确认（含查询码）"), appellant=(EMAIL,)),
    # Enterprise self-service (SMS only, code sealed in the payload like the confirmation's access code):
    # the one-time code proving the contact phone, and a new access code issued after that proof.
    "selfservice.code": EventSpec(_("短信验证码（查看企业诉求）"), appellant=(SMS,)),
    "appeal.access_code_reset": EventSpec(_("重新发放的查询码"), appellant=(SMS,)),
    "appeal.dispatched": EventSpec(
        _("新诉求派至本单位"), audiences=("bureau_staff",), appellant=(EMAIL, SMS), staff_channels=(INBOX, EMAIL, SMS)
    ),
    "appeal.assigned": EventSpec(
        _("诉求分派给您"),
        audiences=("assignee",),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "appeal.triage": EventSpec(_("有诉求等待人工分拨"), audiences=("dispatchers",)),
    "appeal.returned": EventSpec(_("承办单位退单，等待审核"), audiences=("dispatchers",)),
    "appeal.review_requested": EventSpec(_("答复等待审核"), audiences=("bureau_leads",)),
    "appeal.sent_back": EventSpec(_("答复被退回修改"), audiences=("officer",)),
    "appeal.replied": EventSpec(_("诉求已答复"), appellant=(EMAIL, SMS)),
    "appeal.rated": EventSpec(_("收到诉求人评价"), audiences=("officer", "bureau_leads")),
    "appeal.reopened": EventSpec(
        _("差评重办"),
        audiences=("officer", "bureau_leads", "supervisors"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        appellant=(EMAIL, SMS),
    ),
    "appeal.withdrawn": EventSpec(_("诉求人已撤回诉求"), audiences=("officer",)),
    # 并单: the merged appeal's appellant hears that it was merged, undone, and the master's outcome.
    "appeal.merged": EventSpec(_("诉求已并入同一问题的诉求"), appellant=(EMAIL, SMS)),
    "appeal.unmerged": EventSpec(_("诉求已撤销并单，单独办理"), appellant=(EMAIL, SMS)),
    "appeal.master_outcome": EventSpec(_("并单的主诉求有了结果"), appellant=(EMAIL, SMS)),
    # 催办 and 督办 by a supervisor, with their note.
    "supervision.urged": EventSpec(
        _("督办员催办"),
        audiences=("officer", "bureau_leads"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "supervision.supervised": EventSpec(
        _("督办员督办"),
        audiences=("officer", "bureau_leads"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    # 问题工单: the coordinating owner a supervisor appoints hears it, with the note.
    "problem.owner_assigned": EventSpec(
        _("被指派为问题工单协调负责人"),
        audiences=("assignee",),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "extension.requested": EventSpec(_("延期申请等待审批"), audiences=("dispatchers",)),
    "extension.decided": EventSpec(_("延期申请已审批"), audiences=("requester",), appellant=(EMAIL, SMS)),
    "message.appellant": EventSpec(_("诉求人补充了信息"), audiences=("officer",)),
    "message.info_request": EventSpec(_("请补充材料"), appellant=(EMAIL, SMS)),
    "cohandling.invited": EventSpec(_("收到协办邀请"), audiences=("cohandling_staff",)),
    "deadline.warning": EventSpec(_("诉求即将超期"), audiences=("officer", "bureau_leads")),
    "deadline.first_contact": EventSpec(_("尚未联系诉求人（已过首次联系时限）"), audiences=("officer", "bureau_leads")),
    "deadline.urged": EventSpec(
        _("诉求已超期（催办）"),
        audiences=("officer", "bureau_leads", "supervisors"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "deadline.supervised": EventSpec(
        _("诉求被督办"),
        audiences=("officer", "bureau_leads", "supervisors"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "report.ready": EventSpec(_("周报已生成"), audiences=("managers",), staff_defaults=frozenset({INBOX, EMAIL})),
    "alert.raised": EventSpec(_("新的诉求预警"), audiences=("supervisors",), staff_defaults=frozenset({INBOX, EMAIL})),
    "alert.sensitive": EventSpec(
        _("敏感事项预警（请在数小时内处理）"),
        audiences=("supervisors", "dispatchers"),
        staff_defaults=frozenset({INBOX, EMAIL}),
        staff_channels=(INBOX, EMAIL, SMS),
    ),
    "knowledge.expiring": EventSpec(
        _("政策问答即将到期"), audiences=("author", "bureau_leads"), staff_defaults=frozenset({INBOX, EMAIL})
    ),
}

# Aliases other parts of the code may emit for the same thing.
ALIASES = {
    "appeal.warned": "deadline.warning",
    "appeal.urged": "deadline.urged",
    "appeal.supervised": "deadline.supervised",
    "co_handling.invited": "cohandling.invited",
    "appeal.cohandling_invited": "cohandling.invited",
}


def canonical(event_type: str) -> str:
    return ALIASES.get(event_type, event_type)


def spec_for(event_type: str) -> EventSpec | None:
    return EVENTS.get(canonical(event_type))


def is_deadline_event(event_type: str) -> bool:
    return canonical(event_type) in DEADLINE_EVENTS or event_type.startswith("deadline.")


def staff_configurable_events() -> list[tuple[str, EventSpec]]:
    """Events that reach staff, in table order (the rows of the preferences page)."""
    return [(name, spec) for name, spec in EVENTS.items() if spec.audiences]
