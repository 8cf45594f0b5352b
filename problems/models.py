"""Problem tickets (问题工单): an appeal the normal flow is failing, flagged for a coordinating owner.

One ``ProblemTicket`` per appeal. ``reasons`` lists why it was flagged (``reopened``, ``bureaus``,
``supervised``) and ``detail`` the numbers behind them at the time. Supervisors assign an owner (a
supervisor or a bureau lead) who coordinates the bureaus, and resolve the ticket with a reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProblemReason(models.TextChoices):
    REOPENED = "reopened", _("多次重办")
    BUREAUS = "bureaus", _("多次退单改派")
    SUPERVISED = "supervised", _("督办后仍超期")


class ProblemState(models.TextChoices):
    FLAGGED = "flagged", _("待协调")
    RESOLVED = "resolved", _("已解除")


class ProblemTicket(models.Model):
    appeal = models.OneToOneField(
        "appeals.Appeal", verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="problem_ticket"
    )
    # Why it is flagged (booleans rather than a list so every database can filter and count them).
    reopened = models.BooleanField(_("多次重办"), default=False)
    bureaus = models.BooleanField(_("多次退单改派"), default=False)
    supervised = models.BooleanField(_("督办后仍超期"), default=False)
    detail = models.JSONField(_("依据"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=ProblemState.choices, default=ProblemState.FLAGGED, db_index=True
    )
    # Copied from the appeal when flagged, for analytics filters.
    region = models.ForeignKey("routing.Region", verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    bureau = models.ForeignKey(
        "routing.Bureau", verbose_name=_("承办单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flagged_at = models.DateTimeField(_("标记时间"), default=timezone.now, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协调负责人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    owner_note = models.TextField(_("指派说明"), blank=True)
    owner_assigned_at = models.DateTimeField(_("指派时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolve_reason = models.TextField(_("解除理由"), blank=True)

    class Meta:
        verbose_name = _("问题工单")
        verbose_name_plural = _("问题工单")
        ordering = ["state", "-flagged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_state_display()}"

    @property
    def reasons(self) -> list[str]:
        return [reason.value for reason in ProblemReason if getattr(self, reason.value)]

    @reasons.setter
    def reasons(self, value: list[str]) -> None:
        for reason in ProblemReason:
            setattr(self, reason.value, reason.value in value)

    @property
    def reason_labels(self) -> list[str]:
        return [str(ProblemReason(r).label) for r in self.reasons]
