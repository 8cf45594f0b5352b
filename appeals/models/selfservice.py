"""One-time codes that prove control of an appeal's contact phone (enterprise self-service).

A business proves it holds the contact phone of its appeals with a 6-digit code sent by SMS
(``appeals.selfservice``). Neither the code nor the phone number is stored in clear: both are
keyed hashes (HMAC-SHA256 under SECRET_KEY, ``django.utils.crypto.salted_hmac``), so this table
read on its own tells nobody which numbers asked, nor any code. Rows are kept for a day after they
expire (for support questions: "did a code go out?"), then purged by the ``appeals.purge_phone_challenges``
periodic task.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PhoneChallenge(models.Model):
    """One code sent (or, for a number with no appeal, pretended to be sent) to one phone number."""

    phone_digest = models.CharField(_("电话号码摘要"), max_length=64, db_index=True, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    # The optional credit code the business typed: the list it unlocks is narrowed to that enterprise.
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, editable=False)
    # Whether a code really went out (the phone is the contact phone of at least one appeal).
    sent = models.BooleanField(_("已发送"), default=False, editable=False)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("失效时间"), db_index=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0, editable=False)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("短信验证码记录")
        verbose_name_plural = _("短信验证码记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
