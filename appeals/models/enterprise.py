"""Enterprises and the history of their details (appeals keep what they were filed with)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.models.choices import EnterpriseSize, Industry


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
