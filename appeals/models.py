"""Enterprises, appeals (the state machine), their messages, attachments, ratings and audit trail.

The appeal's life is a django-fsm-2 state machine on ``Appeal.state``. The field is protected:
the only way to change it is a transition method, and the only callers of transition methods are
the services in ``appeals.services``, which lock the row, check permissions, save and write the
audit event. Transition bodies set only fields that follow from the transition itself.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from appeals import permissions as perms

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


class Industry(models.TextChoices):
    """GB/T 4754-2017 sections."""

    A = "A", _("农、林、牧、渔业")
    B = "B", _("采矿业")
    C = "C", _("制造业")
    D = "D", _("电力、热力、燃气及水生产和供应业")
    E = "E", _("建筑业")
    F = "F", _("批发和零售业")
    G = "G", _("交通运输、仓储和邮政业")
    H = "H", _("住宿和餐饮业")
    I = "I", _("信息传输、软件和信息技术服务业")  # noqa: E741 - the standard's own section letter
    J = "J", _("金融业")
    K = "K", _("房地产业")
    L = "L", _("租赁和商务服务业")
    M = "M", _("科学研究和技术服务业")
    N = "N", _("水利、环境和公共设施管理业")
    O = "O", _("居民服务、修理和其他服务业")  # noqa: E741
    P = "P", _("教育")
    Q = "Q", _("卫生和社会工作")
    R = "R", _("文化、体育和娱乐业")
    S = "S", _("公共管理、社会保障和社会组织")
    T = "T", _("国际组织")


class EnterpriseSize(models.TextChoices):
    MICRO = "micro", _("微型")
    SMALL = "small", _("小型")
    MEDIUM = "medium", _("中型")


class Enterprise(models.Model):
    """A business that files appeals, identified by its unified social credit code."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200)
    region = models.ForeignKey("routing.Region", verbose_name=_("所在地区"), on_delete=models.PROTECT)
    industry = models.CharField(_("所属行业"), max_length=1, choices=Industry.choices)
    size = models.CharField(_("企业规模"), max_length=10, choices=EnterpriseSize.choices)
    contact_name = models.CharField(_("联系人"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20)
    email = models.EmailField(_("电子邮箱"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name

    def revision_values(self) -> dict[str, Any]:
        """The details an ``EnterpriseRevision`` keeps (what an appeal or the admin can change)."""
        return {name: getattr(self, name) for name in EnterpriseRevision.TRACKED}


class EnterpriseRevision(models.Model):
    """The enterprise's details as they were from ``recorded_at`` on (its history, newest last).

    A row is written whenever a filing or an admin edit changes a tracked detail, so a rename or
    a clerk's typo never loses what the record said before (see ``appeals.enterprise_history``).
    """

    TRACKED = ("name", "region_id", "industry", "size", "contact_name", "phone", "email")

    class Source(models.TextChoices):
        FILING = "filing", _("提交诉求")
        ADMIN = "admin", _("后台修改")
        MIGRATION = "migration", _("升级时的现有资料")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="revisions")
    name = models.CharField(_("企业名称"), max_length=200)
    region = models.ForeignKey("routing.Region", verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+")
    industry = models.CharField(_("所属行业"), max_length=1, choices=Industry.choices)
    size = models.CharField(_("企业规模"), max_length=10, choices=EnterpriseSize.choices)
    contact_name = models.CharField(_("联系人"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20)
    email = models.EmailField(_("电子邮箱"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    # The filing that brought this version (empty for admin edits).
    tracking_number = models.CharField(_("受理编号"), max_length=20, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        ordering = ["enterprise_id", "recorded_at", "id"]
        verbose_name = _("企业资料变更记录")
        verbose_name_plural = _("企业资料变更记录")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.name} @ {self.recorded_at:%Y-%m-%d}"

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.TRACKED}


class AppealState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    TRIAGE = "triage", _("待分拨")
    DISPATCHED = "dispatched", _("已派单")
    RETURNED = "returned", _("退单待审核")
    HANDLING = "handling", _("办理中")
    REVIEW = "review", _("待审核")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已并单")


S = AppealState
# States before a reply has gone out: the appellant may still withdraw, deadlines still run.
OPEN_STATES = [S.SUBMITTED, S.TRIAGE, S.DISPATCHED, S.RETURNED, S.HANDLING, S.REVIEW]
FINAL_STATES = [S.CLOSED, S.WITHDRAWN, S.REJECTED, S.MERGED]


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    WEB = "web", _("网站")
    API = "api", _("接口（移动端、小程序）")
    HOTLINE = "hotline", _("热线代填")


class RatingLevel(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# 不满意 and 非常不满意 are a bad review (差评) and re-open the appeal.
BAD_RATING_MAX = RatingLevel.DISSATISFIED


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


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the user: it is a random id under the appeal's month.
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file attached by the appellant (with the appeal or later) or by the bureau (with its reply).

    Stored outside the web root and served only through a permission-checked view.
    """

    class Source(models.TextChoices):
        APPEAL = "appeal", _("诉求附件")
        SUPPLEMENT = "supplement", _("补充材料")
        REPLY = "reply", _("答复附件")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(
        "AppealMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.APPEAL)
    file = models.FileField(_("文件"), upload_to=attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class AppealMessage(models.Model):
    """A message on an appeal: the appellant's supplement, a staff note (internal) or a request."""

    class Kind(models.TextChoices):
        APPELLANT = "appellant", _("诉求人补充")
        INTERNAL_NOTE = "internal_note", _("内部备注")
        INFO_REQUEST = "info_request", _("请诉求人补充材料")
        CONTACT = "contact", _("联系记录")
        CO_HANDLING = "co_handling", _("协办意见")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    body = models.TextField(_("内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("诉求留言")
        verbose_name_plural = _("诉求留言")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_internal(self) -> bool:
        return self.kind in (self.Kind.INTERNAL_NOTE, self.Kind.CO_HANDLING)


class CoHandling(models.Model):
    """协办: another bureau asked by the lead bureau to contribute its part."""

    class Status(models.TextChoices):
        INVITED = "invited", _("已邀请")
        SUBMITTED = "submitted", _("已提交意见")
        DECLINED = "declined", _("已拒绝")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="co_handlings")
    bureau = models.ForeignKey(
        "routing.Bureau", verbose_name=_("协办单位"), on_delete=models.PROTECT, related_name="co_handlings"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.INVITED)
    request = models.TextField(_("协办事项"))
    response = models.TextField(_("协办意见"), blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("协办时限"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("协办")
        verbose_name_plural = _("协办")
        constraints = [models.UniqueConstraint(fields=["appeal", "bureau"], name="cohandling_once_per_bureau")]

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.bureau_id}"


class Extension(models.Model):
    """延期: a bureau's request to move the reply deadline, approved or refused by a dispatcher."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("未批准")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="extensions")
    reason = models.TextField(_("延期理由"))
    working_days = models.PositiveSmallIntegerField(_("延期工作日"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("审批意见"), blank=True)
    previous_due = models.DateTimeField(_("原答复时限"), null=True, blank=True)
    new_due = models.DateTimeField(_("新答复时限"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")

    def __str__(self) -> str:
        return f"{self.appeal_id} +{self.working_days}"


class Rating(models.Model):
    """The appellant's rating of a reply (one per reply round, plus one follow-up 追评)."""

    class Contest(models.TextChoices):
        NONE = "", _("无")
        PENDING = "pending", _("申诉复核中")
        UPHELD = "upheld", _("申诉成立（不计入考核）")
        DISMISSED = "dismissed", _("申诉不成立")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="ratings")
    level = models.PositiveSmallIntegerField(_("评价"), choices=RatingLevel.choices)
    resolved = models.BooleanField(_("问题已解决"), null=True)
    comment = models.TextField(_("评价意见"), blank=True)
    is_default = models.BooleanField(_("默认评价"), default=False)
    is_followup = models.BooleanField(_("追评"), default=False)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=0, help_text=_("评价时的重办次数。"))
    contest = models.CharField(_("申诉复核"), max_length=10, choices=Contest.choices, blank=True, default="")
    contest_reason = models.TextField(_("申诉理由"), blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [models.UniqueConstraint(fields=["appeal", "round", "is_followup"], name="rating_once_per_round")]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level <= BAD_RATING_MAX


class CannedReply(models.Model):
    """常用答复: admin-managed reply templates per category for bureau officers."""

    category = models.ForeignKey(
        "routing.Category",
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_replies",
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["category__sort_order", "title"]
        verbose_name = _("常用答复")
        verbose_name_plural = _("常用答复")

    def __str__(self) -> str:
        return self.title


class PiiAccessLog(models.Model):
    """Every view of unmasked personal data (phone, e-mail) and every export that contains it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("操作"), max_length=50)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.appeal_id}"


class TrackingSequence(models.Model):
    """Per-day counter behind tracking numbers (YYYYMMDD + 6-digit sequence)."""

    day = models.DateField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last_value}"


class AppealEventQuerySet(models.QuerySet):
    """Append-only: bulk updates and deletes through the ORM are refused."""

    def update(self, **kwargs):  # type: ignore[override]
        raise PermissionError("Audit events are append-only.")

    def delete(self):  # type: ignore[override]
        raise PermissionError("Audit events are append-only.")


class AppealEvent(models.Model):
    """One row of the audit trail (审核环节全程记录). Append-only, hash-chained per appeal.

    ``hash`` = HMAC-SHA256, under the audit key named by ``key_id``, of the previous event's hash,
    this event's canonical content and ``row_digest`` (the appeal's audited fields after the
    step), so any edit or deletion in the database breaks the chain (``manage.py verify_audit``;
    see ``appeals.audit``). On PostgreSQL a trigger refuses UPDATE and DELETE of these rows.
    """

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("工作人员")
        APPELLANT = "appellant", _("诉求人")
        SYSTEM = "system", _("系统")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(_("事件"), max_length=40, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(_("操作人类型"), max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(_("操作人"), max_length=100, blank=True)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    reason = models.TextField(_("原因/说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    row_digest = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=32, blank=True)

    objects = AppealEventQuerySet.as_manager()

    class Meta:
        ordering = ["appeal_id", "seq"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        constraints = [models.UniqueConstraint(fields=["appeal", "seq"], name="event_seq_unique_per_appeal")]
        triggers = [
            # PostgreSQL only (a no-op on SQLite, where the model and queryset guards above remain).
            pgtrigger.Protect(name="audit_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class AuditCheckpoint(models.Model):
    """A signed digest of every appeal's audit-chain head at one moment (built daily).

    ``heads`` holds zlib-compressed lines ``appeal_id<TAB>tracking_number<TAB>seq<TAB>hash``
    sorted by appeal id; ``signature`` is the HMAC (audit key ``key_id``) of the summary fields and
    the SHA-256 of the uncompressed heads. ``verify_audit`` checks that every appeal listed in the
    newest checkpoint still exists with its chain at least that long; exports go to an outside
    witness (``manage.py audit_checkpoint --export``). See ``appeals.audit_checkpoints``.
    """

    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, db_index=True)
    appeal_count = models.PositiveIntegerField(_("诉求数"))
    event_count = models.PositiveBigIntegerField(_("办理记录数"))
    heads = models.BinaryField(editable=False)
    heads_sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审计链头摘要")
        verbose_name_plural = _("审计链头摘要")
        triggers = [
            # Never rewritten; deleting is allowed so old ones can be pruned (AUDIT_CHECKPOINTS_KEPT).
            pgtrigger.Protect(name="audit_checkpoint_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.appeal_count})"
