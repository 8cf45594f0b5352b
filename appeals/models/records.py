"""What is attached to an appeal: files, messages, co-handling, extensions, ratings, canned replies,
the PII access log and the tracking-number counter."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.models.appeal import Appeal
from appeals.models.choices import BAD_RATING_MAX, RatingLevel


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
