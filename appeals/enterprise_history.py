"""The enterprise's history and the details each appeal was filed with.

An appeal keeps the enterprise name and credit code it was filed under (``Appeal.enterprise_name``
and ``enterprise_credit_code``; region, industry and size were already stored on the appeal), so
filing again under the same credit code with another name — a rename, or a clerk's typo — updates
the Enterprise record and leaves earlier appeals as they were. The Enterprise record's own
history is kept as ``EnterpriseRevision`` rows: one whenever a filing or an admin edit changes a
tracked detail. Staff pages show both names when they differ.
"""

from __future__ import annotations

from typing import Any

from appeals.models import Appeal, Enterprise, EnterpriseRevision


def record_filing(*, appeal: Appeal, enterprise: Enterprise) -> None:
    """Snapshot the enterprise onto a new (unsaved) appeal and log the enterprise's details if they changed.

    Called by the submission service right after the enterprise upsert, inside its transaction:
    ``enterprise`` holds the details of this filing. Costs one indexed read, plus one insert when
    something changed (or the enterprise is new).
    """
    appeal.snapshot_enterprise(enterprise)
    record_revision(
        enterprise=enterprise, source=EnterpriseRevision.Source.FILING, tracking_number=appeal.tracking_number
    )


def record_revision(
    *, enterprise: Enterprise, source: str, tracking_number: str = "", changed_by: Any = None
) -> EnterpriseRevision | None:
    """Append an ``EnterpriseRevision`` when the enterprise's tracked details differ from the last one.

    Returns the new revision, or None when nothing changed.
    """
    last = EnterpriseRevision.objects.filter(enterprise_id=enterprise.pk).order_by("-recorded_at", "-id").first()
    values = enterprise.revision_values()
    if last is not None and last.values() == values:
        return None
    return EnterpriseRevision.objects.create(
        enterprise_id=enterprise.pk,
        source=source,
        tracking_number=tracking_number,
        changed_by=changed_by,
        **values,
    )


def revisions_for(enterprise: Enterprise) -> list[EnterpriseRevision]:
    """The enterprise's history, oldest first, with the region loaded (for staff pages)."""
    return list(EnterpriseRevision.objects.filter(enterprise=enterprise).select_related("region"))
