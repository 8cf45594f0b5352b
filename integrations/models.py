"""What Huying keeps to talk to other systems.

* ``Open311Request`` / ``Open311Policy``: appeals filed through Open311 GeoReport v2 and what each
  partner key (an ``appeals.api`` client) may list.
* ``BureauCredential`` / ``CredentialUse``: a bureau's own case system calling the bureau API, with
  an audit row for every call.
* ``WebhookEndpoint`` / ``WebhookDelivery``: the events Huying pushes to a bureau's system, one
  delivery row per (endpoint, outbox event) with its attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX_LENGTH = 8


class Open311Request(models.Model):
    """The Open311 side of an appeal filed through GeoReport v2 (the appeal itself is an ordinary one)."""

    appeal = models.OneToOneField("appeals.Appeal", on_delete=models.PROTECT, related_name="open311")
    client = models.ForeignKey("appeals_api.ApiClient", on_delete=models.PROTECT, related_name="+")
    jurisdiction_id = models.CharField(_("管辖区"), max_length=50, blank=True)
    address_string = models.CharField(_("地址"), max_length=250, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    # The appellant agreed that the description may be shown in public listings.
    public_description = models.BooleanField(_("同意公开诉求内容"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("Open311诉求")
        verbose_name_plural = _("Open311诉求")

    def __str__(self) -> str:
        return f"open311:{self.appeal_id}"


class Open311Policy(models.Model):
    """What one partner key may do through Open311 beyond the public default."""

    class Listing(models.TextChoices):
        PUBLIC = "public", _("与公众相同（不含个人信息）")
        OWN = "own", _("只列出本客户端提交的诉求")
        NONE = "none", _("不允许列表查询")

    client = models.OneToOneField("appeals_api.ApiClient", on_delete=models.CASCADE, related_name="open311_policy")
    may_submit = models.BooleanField(_("允许提交诉求"), default=True)
    listing = models.CharField(_("列表查询范围"), max_length=10, choices=Listing.choices, default=Listing.PUBLIC)
    returns_token = models.BooleanField(
        _("提交后返回 token"),
        default=False,
        help_text=_("为按“batch”方式编写的客户端返回 token（用 tokens 接口换取受理编号），而不是直接返回受理编号。"),
    )

    class Meta:
        verbose_name = _("Open311接入策略")
        verbose_name_plural = _("Open311接入策略")

    def __str__(self) -> str:
        return f"{self.client} ({self.listing})"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class BureauCredential(models.Model):
    """A bureau system's key for the bureau API. Shown once, stored as SHA-256, scoped to one bureau.

    The key acts as ``user``, a staff member of the bureau (an officer or the lead), so every action
    runs through the same services and permission checks as the console and the audit trail names
    a person the bureau answers for.
    """

    name = models.CharField(_("名称"), max_length=100, help_text=_("例如“市人社局业务系统”。"))
    bureau = models.ForeignKey("routing.Bureau", on_delete=models.PROTECT, related_name="integration_credentials")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代表的工作人员"),
        on_delete=models.PROTECT,
        related_name="integration_credentials",
        help_text=_("接口以这位本单位工作人员的身份操作（签收、答复等），须属于上面的承办单位。"),
    )
    key_prefix = models.CharField(_("密钥前缀"), max_length=KEY_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        ordering = ["bureau_id", "name"]
        verbose_name = _("承办单位接口凭证")
        verbose_name_plural = _("承办单位接口凭证")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    @staticmethod
    def new_key() -> tuple[str, str]:
        """A fresh (prefix, key) pair; the key is ``hyb_<prefix>_<secret>``."""
        prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
        return prefix, f"hyb_{prefix}_{secrets.token_urlsafe(32)}"

    def set_key(self, key: str, prefix: str) -> None:
        self.key_prefix = prefix
        self.key_hash = _hash(key)

    def check_key(self, key: str) -> bool:
        return hmac.compare_digest(self.key_hash, _hash(key))


class CredentialUse(models.Model):
    """One call made with a bureau credential: the audit trail of machine access."""

    credential = models.ForeignKey(BureauCredential, on_delete=models.PROTECT, related_name="uses")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    action = models.CharField(_("操作"), max_length=40, blank=True)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status_code = models.PositiveSmallIntegerField(_("响应码"))
    remote_addr = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")

    def __str__(self) -> str:
        return f"{self.credential_id} {self.method} {self.path} {self.status_code}"


class WebhookEvent(models.TextChoices):
    DISPATCHED = "appeal.dispatched", _("派单")
    REROUTED = "appeal.rerouted", _("改派")
    URGED = "appeal.urged", _("催办")
    SUPERVISED = "appeal.supervised", _("督办")
    RATED = "appeal.rated", _("评价")
    REOPENED = "appeal.reopened", _("差评重办")


class WebhookEndpoint(models.Model):
    """Where a bureau's system wants Huying's events, and the secret they are signed with."""

    bureau = models.ForeignKey("routing.Bureau", on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=100, editable=False)
    events = models.JSONField(_("订阅的事件"), default=list, blank=True, help_text=_("留空表示全部事件。"))
    is_active = models.BooleanField(_("启用"), default=True)
    allow_private_network = models.BooleanField(
        _("允许内网地址"),
        default=False,
        help_text=_("生产环境默认拒绝回环和内网地址；只有接收系统确在内网时才勾选。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["bureau_id", "id"]
        verbose_name = _("事件推送地址")
        verbose_name_plural = _("事件推送地址")

    def __str__(self) -> str:
        return f"{self.bureau_id} → {self.url}"

    @staticmethod
    def new_secret() -> str:
        return f"whsec_{secrets.token_urlsafe(32)}"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event to one endpoint. Unique per (endpoint, outbox event, type): fan-out is idempotent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败，等待重试")
        DEAD = "dead", _("已放弃（需人工重试）")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    outbox_event = models.ForeignKey(
        "notifications.OutboxEvent", on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    event_type = models.CharField(_("事件"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("事件推送记录")
        verbose_name_plural = _("事件推送记录")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "outbox_event", "event_type"], name="webhook_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
