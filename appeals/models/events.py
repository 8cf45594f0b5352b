"""The audit trail: append-only, keyed hash-chained events and the daily signed checkpoints."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.models.appeal import Appeal


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
