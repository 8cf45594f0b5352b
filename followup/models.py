"""Follow-up calls (回访): one ``FollowUp`` per closed appeal (and handling round) selected for a call.

The dispatch centre calls the appellant, reads the call script, and records the outcome. Bureau,
region and category are copied from the appeal when it is selected so analytics can count follow-ups
per bureau without joining the appeals table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FollowUpReason(models.TextChoices):
    BAD_RATING = "bad_rating", _("差评")
    DEFAULT_RATING = "default_rating", _("默认评价")
    SAMPLE = "sample", _("抽样")


class FollowUpState(models.TextChoices):
    PENDING = "pending", _("待回访")
    DONE = "done", _("已回访")
    UNREACHABLE = "unreachable", _("无法联系")


class FollowUpOutcome(models.TextChoices):
    RESOLVED = "resolved", _("已联系，问题已解决")
    NOT_RESOLVED = "not_resolved", _("已联系，问题未解决（重办）")
    CONTESTED = "contested", _("已联系，对评价有异议（复核）")
    NOT_REACHED = "not_reached", _("未联系上")


class FollowUp(models.Model):
    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="+")
    # The appeal's re-handling round when it closed: a re-opened appeal that closes again is called again.
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=0)
    reason = models.CharField(_("回访原因"), max_length=16, choices=FollowUpReason.choices)
    rating = models.ForeignKey(
        "appeals.Rating", verbose_name=_("评价"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bureau = models.ForeignKey(
        "routing.Bureau", verbose_name=_("承办单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region = models.ForeignKey("routing.Region", verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("办结时间"))
    due_at = models.DateTimeField(_("回访期限"), db_index=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=FollowUpState.choices, default=FollowUpState.PENDING, db_index=True
    )
    outcome = models.CharField(_("回访结果"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("未联系上次数"), default=0)
    last_attempt_at = models.DateTimeField(_("最近一次呼叫"), null=True, blank=True)
    note = models.TextField(_("回访记录"), blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["appeal", "round"], name="followup_once_per_round")]
        indexes = [models.Index(fields=["bureau", "closed_at"], name="followup_bureau_closed")]

    def __str__(self) -> str:
        return f"{self.appeal_id}#{self.round} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state == FollowUpState.PENDING
