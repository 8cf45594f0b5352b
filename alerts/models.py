"""Early warnings (未诉先办) and the sensitive-word list that raises some of them.

An ``Alert`` names the appeals behind it (``AlertAppeal``), is raised once per problem (later runs
add newly matching appeals to the same alert instead of raising another) and is acknowledged by a
supervisor with a note. ``SensitiveTerm`` rows are edited by administrators.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    CLUSTER = "cluster", _("同类诉求聚集")
    REPEAT = "repeat", _("同一企业重复诉求")
    SURGE = "surge", _("类别诉求激增")
    SENSITIVE = "sensitive", _("敏感事项")


class AlertState(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")


class Alert(models.Model):
    kind = models.CharField(_("预警类型"), max_length=12, choices=AlertKind.choices, db_index=True)
    # What makes two detections the same problem (e.g. "surge:<category>:<region>:<week>").
    key = models.CharField(max_length=200)
    title = models.CharField(_("标题"), max_length=200)
    detail = models.JSONField(_("依据"), default=dict, blank=True)
    region = models.ForeignKey(
        "routing.Region", verbose_name=_("地区"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        "routing.Category",
        verbose_name=_("诉求类别"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    appeals = models.ManyToManyField("appeals.Appeal", through="AlertAppeal", related_name="+")
    state = models.CharField(
        _("状态"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    raised_at = models.DateTimeField(_("预警时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("最近更新"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="alerts_alert_unique_key")]

    def __str__(self) -> str:
        return self.title

    @property
    def headline(self) -> str:
        """The title in the reader's language, built from the numbers in ``detail``."""
        return self.headline_in()

    def headline_in(self) -> str:
        d = self.detail or {}
        try:
            if self.kind == AlertKind.CLUSTER:
                return gettext("%(enterprises)s家企业在%(days)s天内反映同一问题") % d
            if self.kind == AlertKind.REPEAT:
                return gettext("同一企业%(days)s天内就同一事项提交%(appeals)s件诉求") % d
            if self.kind == AlertKind.SURGE:
                return gettext("近7天%(count)s件，前%(weeks)s周平均%(baseline_mean)s件") % d
            if self.kind == AlertKind.SENSITIVE:
                return gettext("诉求提及敏感词：%(terms)s") % {"terms": "、".join(d.get("terms", []))}
        except (KeyError, TypeError):
            pass
        return self.title


class AlertAppeal(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="links")
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "appeal"], name="alerts_alertappeal_unique")]

    def __str__(self) -> str:
        return f"{self.alert_id}:{self.appeal_id}"


class SensitiveTerm(models.Model):
    """A word or phrase that needs a human look within hours when an appeal mentions it."""

    class Topic(models.TextChoices):
        SAFETY = "safety", _("安全生产")
        WAGES = "wages", _("欠薪")
        LAYOFFS = "layoffs", _("裁员停产")
        UNREST = "unrest", _("群体性事件")
        OTHER = "other", _("其他")

    term = models.CharField(_("词语"), max_length=50, unique=True)
    topic = models.CharField(_("类别"), max_length=10, choices=Topic.choices, default=Topic.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")
        ordering = ["topic", "term"]

    def __str__(self) -> str:
        return self.term
