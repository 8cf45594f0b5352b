"""Enterprises, appeals (the state machine), their messages, attachments, ratings and audit trail.

The appeal's life is a django-fsm-2 state machine on ``Appeal.state``. The field is protected:
the only way to change it is a transition method, and the only callers of transition methods are
the services in ``appeals.services``, which lock the row, check permissions, save and write the
audit event. Transition bodies set only fields that follow from the transition itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from appeals import permissions as perms
from appeals.models.choices import (
    BAD_RATING_MAX,
    OPEN_STATES,
    AppealState,
    Channel,
    EnterpriseSize,
    Industry,
    RatingLevel,
    S,
    Urgency,
)
from appeals.models.enterprise import Enterprise
from routing.appeal_types import AppealType

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    _Method = TypeVar("_Method", bound=Callable[..., Any])

    # django-fsm-2 types a transition's permission and conditions as callables of any ``Model``.
    # Ours take an ``Appeal`` (django_fsm only ever calls them with the instance being transitioned),
    # and callables are contravariant in their arguments, so mypy would reject every one of them.
    # This declaration of the same decorator says so for this module, and keeps the decorated
    # method's own signature instead of django_fsm's ``Callable[[Any], Any]``.
    def transition(
        field: FSMField | str,
        source: str | Sequence[str] = ...,
        target: str | None = ...,
        on_error: str | None = ...,
        conditions: list[Callable[[Appeal], bool]] | None = ...,
        permission: str | Callable[[Appeal, Any], bool] | None = ...,
        custom: dict[str, Any] | None = ...,
    ) -> Callable[[_Method], _Method]: ...
else:
    from django_fsm import transition


class AppealQuerySet(models.QuerySet):
    def open(self) -> AppealQuerySet:
        return self.filter(state__in=OPEN_STATES)


class Appeal(ConcurrentTransitionMixin, models.Model):
    """One appeal (诉求) and its place in the workflow."""

    tracking_number = models.CharField(_("受理编号"), max_length=20, unique=True)
    # HMAC of the access code (see appeals.access_codes); the code itself is shown once.
    access_code_hash = models.CharField(max_length=64, editable=False)
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="appeals")
    # The enterprise as it was filed with (set by ``snapshot_enterprise``): a later filing under
    # another name updates the Enterprise record, never this appeal.
    enterprise_name = models.CharField(_("提交时的企业名称"), max_length=200, blank=True)
    enterprise_credit_code = models.CharField(_("提交时的统一社会信用代码"), max_length=18, blank=True)
    # Contact details as given with this appeal (the enterprise's may change later).
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    region = models.ForeignKey("routing.Region", verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    industry = models.CharField(_("行业"), max_length=1, choices=Industry.choices)
    enterprise_size = models.CharField(_("企业规模"), max_length=10, choices=EnterpriseSize.choices)

    category = models.ForeignKey(
        "routing.Category", verbose_name=_("类别"), on_delete=models.PROTECT, related_name="appeals"
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("诉求内容"))
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    urgency_reason = models.CharField(_("紧急原因"), max_length=200, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    # The appeal type (诉求类型): the appellant's choice, else the suggestion from the text
    # (``routing.appeal_types.suggest_type``) with ``appeal_type_suggested`` set. Blank only on rows
    # filed before types existed that no migration could type.
    appeal_type = models.CharField(_("诉求类型"), max_length=20, choices=AppealType.choices, blank=True)
    appeal_type_suggested = models.BooleanField(_("诉求类型为系统建议"), default=False)

    state = FSMField(_("状态"), default=S.SUBMITTED, choices=AppealState.choices, protected=True, db_index=True)

    # Routing: where it went and why (rule, classifier score), shown to dispatchers.
    bureau = models.ForeignKey(
        "routing.Bureau",
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_appeals",
    )
    routing_rule = models.ForeignKey(
        "routing.RoutingRule",
        verbose_name=_("命中规则"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    routing_explanation = models.JSONField(_("分拨说明"), default=dict, blank=True)
    suggested_category = models.ForeignKey(
        "routing.Category",
        verbose_name=_("建议类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category_confidence = models.FloatField(_("分类置信度"), null=True, blank=True)
    category_disputed = models.BooleanField(_("类别存疑"), default=False)
    classifier_version = models.CharField(_("分类模型版本"), max_length=40, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_appeals"
    )
    rejection_reason = models.TextField(_("不予受理理由"), blank=True)

    # Deadlines (computed by routing.deadlines when each clock starts).
    sign_for_due = models.DateTimeField(_("签收时限"), null=True, blank=True)
    return_due = models.DateTimeField(_("退单时限"), null=True, blank=True)
    first_contact_due = models.DateTimeField(_("首次联系时限"), null=True, blank=True)
    reply_due = models.DateTimeField(_("答复时限"), null=True, blank=True, db_index=True)
    # What the business was promised (routing.deadlines.promised_reply_deadline): set once at filing,
    # moved only by what the business is told (extension, re-handling, a paused clock); reply_due
    # is never later. Every page, message and API that tells the business a date reads this.
    promised_reply_by = models.DateTimeField(_("承诺答复时间"), null=True, blank=True)
    # The clock stops while waiting on the appellant for more information.
    paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    # Deadline escalation markers: each is set once, by the deadline sweep.
    warned_at = models.DateTimeField(_("临期预警于"), null=True, blank=True)
    urged_at = models.DateTimeField(_("催办于"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("督办于"), null=True, blank=True)
    first_contact_urged_at = models.DateTimeField(_("首次联系超时提醒于"), null=True, blank=True)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)

    reply = models.TextField(_("答复内容"), blank=True)
    rating_level = models.PositiveSmallIntegerField(_("最新评价"), null=True, blank=True, choices=RatingLevel.choices)

    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Incremented by every service write; a form posts the version it showed, so a stale form
    # gets a conflict instead of overwriting a colleague's change.
    version = models.PositiveIntegerField(default=0)
    # The audit chain's head, written with every event (appeals.audit.record_events): deleting the
    # newest events leaves the row pointing past the trail's end, which verify_audit reports.
    audit_head_seq = models.PositiveIntegerField(default=0, editable=False)
    audit_head_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppealQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        permissions = [
            ("dispatch_appeal", _("分拨、退单审核、不予受理、并单、审批延期")),
            ("handle_appeal", _("签收、办理、答复本单位诉求")),
            ("review_appeal", _("审核本单位答复")),
            ("lead_bureau", _("管理本单位（改派承办人、查看本单位考核）")),
            ("supervise_appeal", _("催办、督办")),
            ("view_all_appeals", _("查看所有单位的诉求")),
        ]
        indexes = [
            models.Index(fields=["bureau", "state"], name="appeal_bureau_state"),
            models.Index(fields=["category", "submitted_at"], name="appeal_category_submitted"),
            models.Index(fields=["appeal_type", "submitted_at"], name="appeal_type_submitted"),
            # The staff search (诉求查询) lists newest first, filtered by state and/or bureau.
            models.Index(fields=["state", "-submitted_at"], name="appeal_state_submitted"),
            models.Index(fields=["bureau", "-submitted_at"], name="appeal_bureau_submitted"),
            # Enterprise self-service lists every appeal filed with one verified contact phone.
            models.Index(fields=["contact_phone"], name="appeal_contact_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} {self.title}"

    # --- Pure predicates (conditions) -------------------------------------------------------

    def within_return_window(self) -> bool:
        return self.return_due is None or timezone.now() <= self.return_due

    def bureau_requires_review(self) -> bool:
        return self.bureau is not None and self.bureau.requires_review

    def bureau_replies_directly(self) -> bool:
        return not self.bureau_requires_review()

    def has_closing_rating(self) -> bool:
        """Rated 基本满意 or better, or left unrated for the default-rating period."""
        if self.rating_level is not None:
            return self.rating_level > BAD_RATING_MAX
        if self.replied_at is None:
            return False
        period = timedelta(days=settings.HUYING["DEFAULT_RATING_DAYS"])
        return timezone.now() >= self.replied_at + period

    def has_bad_rating(self) -> bool:
        return self.rating_level is not None and self.rating_level <= BAD_RATING_MAX

    # --- Transitions -----------------------------------------------------------------------

    @transition(field=state, source=S.SUBMITTED, target=S.DISPATCHED, permission=perms.can_dispatch)
    def route(self, *, bureau, at) -> None:
        """Routing found the responsible bureau (run by the system, or a dispatcher by hand)."""
        self.bureau = bureau
        self.dispatched_at = at

    @transition(field=state, source=S.SUBMITTED, target=S.TRIAGE, permission=perms.can_dispatch)
    def send_to_triage(self) -> None:
        """No rule could decide: the appeal waits in the dispatcher's triage queue (待分拨)."""

    @transition(field=state, source=S.TRIAGE, target=S.DISPATCHED, permission=perms.can_dispatch)
    def dispatch(self, *, bureau, at) -> None:
        """A dispatcher routes an appeal from the triage queue."""
        self.bureau = bureau
        self.dispatched_at = at

    @transition(field=state, source=[S.SUBMITTED, S.TRIAGE], target=S.REJECTED, permission=perms.can_dispatch)
    def reject(self, *, reason: str, at) -> None:
        """不予受理: spam, out of scope, or matters with their own legal channel."""
        self.rejection_reason = reason
        self.closed_at = at

    @transition(field=state, source=[S.SUBMITTED, S.TRIAGE], target=S.MERGED, permission=perms.can_dispatch)
    def merge(self, *, master: Appeal, at) -> None:
        """并单: a duplicate follows the master appeal's outcome."""
        self.merged_into = master
        self.closed_at = at

    @transition(field=state, source=S.MERGED, target=S.TRIAGE, permission=perms.can_dispatch)
    def unmerge(self) -> None:
        """撤销并单: a wrongly merged appeal waits for a dispatcher again (``appeal_unmerge``)."""
        self.merged_into = None
        self.closed_at = None

    @transition(field=state, source=S.DISPATCHED, target=S.HANDLING, permission=perms.is_bureau_handler)
    def sign_for(self, *, officer, at) -> None:
        """An officer of the assigned bureau accepts the appeal (签收)."""
        self.officer = officer
        self.signed_at = at

    @transition(
        field=state,
        source=S.DISPATCHED,
        target=S.RETURNED,
        permission=perms.is_bureau_handler,
        conditions=[within_return_window],
    )
    def return_to_dispatch(self) -> None:
        """退单: the bureau says the appeal is not its duty; a dispatcher arbitrates."""

    @transition(field=state, source=S.RETURNED, target=S.DISPATCHED, permission=perms.can_dispatch)
    def redispatch(self, *, bureau, at) -> None:
        """改派 after a return: to another bureau, or back to the same one with a ruling."""
        self.bureau = bureau
        self.officer = None
        self.dispatched_at = at

    @transition(
        field=state,
        source=S.HANDLING,
        target=S.REVIEW,
        permission=perms.is_assigned_officer_or_lead,
        conditions=[bureau_requires_review],
    )
    def submit_for_review(self, *, reply: str) -> None:
        """The officer's draft reply goes to the bureau lead (待审核)."""
        self.reply = reply

    @transition(field=state, source=S.REVIEW, target=S.REPLIED, permission=perms.is_bureau_lead)
    def approve_reply(self, *, at) -> None:
        """The bureau lead approves the draft; it goes to the appellant."""
        self.replied_at = at
        self.rating_level = None

    @transition(field=state, source=S.REVIEW, target=S.HANDLING, permission=perms.is_bureau_lead)
    def send_back(self) -> None:
        """The bureau lead sends the draft back to the officer."""

    @transition(
        field=state,
        source=S.HANDLING,
        target=S.REPLIED,
        permission=perms.is_assigned_officer_or_lead,
        conditions=[bureau_replies_directly],
    )
    def send_reply(self, *, reply: str, at) -> None:
        """A bureau without review replies to the appellant directly."""
        self.reply = reply
        self.replied_at = at
        self.rating_level = None

    @transition(
        field=state, source=S.REPLIED, target=S.CLOSED, permission=perms.anyone, conditions=[has_closing_rating]
    )
    def close(self, *, at) -> None:
        """办结: rated 基本满意 or better, or unrated past the default-rating period."""
        self.closed_at = at

    @transition(field=state, source=S.REPLIED, target=S.HANDLING, permission=perms.anyone, conditions=[has_bad_rating])
    def reopen(self) -> None:
        """重办 after a bad review."""
        self.reopen_count += 1
        self.replied_at = None
        self.warned_at = self.urged_at = self.supervised_at = None

    @transition(field=state, source=S.CLOSED, target=S.HANDLING, permission=perms.can_dispatch)
    def reopen_after_followup(self) -> None:
        """重办 after the follow-up call (回访) finds the problem not resolved."""
        self.reopen_count += 1
        self.replied_at = None
        self.closed_at = None
        self.rating_level = None
        self.warned_at = self.urged_at = self.supervised_at = None

    @transition(field=state, source=OPEN_STATES, target=S.WITHDRAWN, permission=perms.anyone)
    def withdraw(self, *, at) -> None:
        """撤回 by the appellant (authorised by the access code, not a login)."""
        self.closed_at = at

    # --- Filing ----------------------------------------------------------------------------------

    def snapshot_enterprise(self, enterprise: Enterprise) -> None:
        """Keep the enterprise's name and credit code as filed (region, industry and size already
        live on the appeal); called once, when the appeal is created."""
        self.enterprise = enterprise
        self.enterprise_name = enterprise.name
        self.enterprise_credit_code = enterprise.credit_code

    # --- Display helpers ----------------------------------------------------------------------

    @property
    def filed_enterprise_name(self) -> str:
        """The name the appeal was filed under (rows written before snapshots fall back to today's)."""
        return self.enterprise_name or self.enterprise.name

    @property
    def filed_credit_code(self) -> str:
        return self.enterprise_credit_code or self.enterprise.credit_code

    @property
    def enterprise_changed_since_filing(self) -> bool:
        """The Enterprise record now says something else than the appeal was filed with."""
        return (self.filed_enterprise_name, self.filed_credit_code) != (
            self.enterprise.name,
            self.enterprise.credit_code,
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_urgent(self) -> bool:
        return self.urgency == Urgency.URGENT
