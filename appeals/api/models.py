"""Channel partners' API keys (mobile app backend, mini-program, hotline agents' desk).

A key is shown once when created (in the admin or ``manage.py create_api_client``) and stored only as SHA-256:
keys are 256-bit random secrets, so a fast hash is enough (no password-style stretching needed),
and the prefix lets the server find the row without scanning.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX_LENGTH = 8


class ApiClient(models.Model):
    class Channel(models.TextChoices):
        API = "api", _("接口（移动端、小程序）")
        HOTLINE = "hotline", _("热线代填")

    name = models.CharField(_("名称"), max_length=100, help_text=_("例如“企业服务小程序”或“12345热线座席”。"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.API)
    key_prefix = models.CharField(_("密钥前缀"), max_length=KEY_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def assign_new_key(self) -> str:
        """Give this (unsaved) client a fresh key; returns the plain key (shown once, never stored)."""
        while True:
            prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
            if not type(self).objects.filter(key_prefix=prefix).exists():
                break
        key = f"hy_{prefix}_{secrets.token_urlsafe(32)}"
        self.key_prefix = prefix
        self.key_hash = self.hash_key(key)
        return key

    @classmethod
    def create_with_key(cls, *, name: str, channel: str = Channel.API) -> tuple[ApiClient, str]:
        """Create a client and return it with its plain key (shown once, never stored)."""
        client = cls(name=name, channel=channel)
        key = client.assign_new_key()
        client.save()
        return client, key

    def check_key(self, key: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash_key(key))
