"""Bring existing data under the new guarantees.

1. Appeals filed before snapshots existed get the enterprise's current name and credit code (the
   best record there is), and every enterprise gets a first history row with its current details.
2. Existing audit events are **re-signed** with the audit key (the first of AUDIT_KEYS, or the
   development key), chain by chain, *after* checking each chain under the old unkeyed format;
   the newest event of each chain commits to the appeal row's current audited fields and the row
   stores its head. A chain that does not verify under the old format is left exactly as it was,
   marked ``legacy-broken``, so ``verify_audit`` keeps reporting it instead of blessing it.

Why re-sign rather than keep a legacy verification path: an unkeyed chain can be rewritten by
anyone with database access, so a legacy path would keep that hole open for every old appeal
forever; re-signing closes it from the moment of the upgrade, and nothing that was already
broken gets signed. Reversing restores the unkeyed hashes.

The digest code is imported from appeals.audit on purpose: the hashes must be exactly what
verify_audit computes.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

BATCH = 500


def _batches(Appeal):
    last = 0
    while True:
        appeals = list(Appeal.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not appeals:
            return
        last = appeals[-1].pk
        yield appeals


def _chains(AppealEvent, appeals):
    chains = {appeal.pk: [] for appeal in appeals}
    for event in AppealEvent.objects.filter(appeal_id__in=list(chains)).order_by("appeal_id", "seq"):
        chains[event.appeal_id].append(event)
    return chains


def forwards(apps, schema_editor):
    from appeals import audit

    Appeal = apps.get_model("appeals", "Appeal")
    AppealEvent = apps.get_model("appeals", "AppealEvent")
    Enterprise = apps.get_model("appeals", "Enterprise")
    EnterpriseRevision = apps.get_model("appeals", "EnterpriseRevision")

    enterprise = Enterprise.objects.filter(pk=OuterRef("enterprise_id"))
    Appeal.objects.filter(enterprise_name="").update(
        enterprise_name=Subquery(enterprise.values("name")[:1]),
        enterprise_credit_code=Subquery(enterprise.values("credit_code")[:1]),
    )
    revisions = []
    for e in Enterprise.objects.order_by("pk").iterator(chunk_size=2000):
        revisions.append(
            EnterpriseRevision(
                enterprise_id=e.pk,
                name=e.name,
                region_id=e.region_id,
                industry=e.industry,
                size=e.size,
                contact_name=e.contact_name,
                phone=e.phone,
                email=e.email,
                source="migration",
                recorded_at=e.updated_at,
            )
        )
        if len(revisions) >= 2000:
            EnterpriseRevision.objects.bulk_create(revisions)
            revisions = []
    EnterpriseRevision.objects.bulk_create(revisions)

    key_id, key = audit.current_key()
    for appeals in _batches(Appeal):
        chains = _chains(AppealEvent, appeals)
        changed_events = []
        for appeal in appeals:
            chain = chains[appeal.pk]
            if not chain:
                continue
            intact = all(
                e.seq == i and e.prev_hash == (chain[i - 2].hash if i > 1 else "") for i, e in enumerate(chain, start=1)
            ) and all(e.hash == audit.unkeyed_digest(prev_hash=e.prev_hash, **audit.event_content(e)) for e in chain)
            if intact:
                prev = ""
                for e in chain:
                    e.prev_hash = prev
                    e.key_id = key_id
                    e.row_digest = audit.row_digest(appeal) if e is chain[-1] else ""
                    e.hash = audit.sign(e, key_id=key_id, key=key)
                    prev = e.hash
            else:
                for e in chain:
                    e.key_id = audit.LEGACY_BROKEN_KEY_ID
            changed_events.extend(chain)
            appeal.audit_head_seq, appeal.audit_head_hash = chain[-1].seq, chain[-1].hash
        AppealEvent.objects.bulk_update(changed_events, ["prev_hash", "hash", "row_digest", "key_id"], batch_size=1000)
        Appeal.objects.bulk_update(appeals, ["audit_head_seq", "audit_head_hash"], batch_size=1000)


def backwards(apps, schema_editor):
    from appeals import audit

    Appeal = apps.get_model("appeals", "Appeal")
    AppealEvent = apps.get_model("appeals", "AppealEvent")
    for appeals in _batches(Appeal):
        changed = []
        for chain in _chains(AppealEvent, appeals).values():
            if chain and chain[0].key_id == audit.LEGACY_BROKEN_KEY_ID:
                continue
            prev = ""
            for e in chain:
                e.prev_hash = prev
                e.row_digest, e.key_id = "", ""
                e.hash = audit.unkeyed_digest(prev_hash=prev, **audit.event_content(e))
                prev = e.hash
            changed.extend(chain)
        AppealEvent.objects.bulk_update(changed, ["prev_hash", "hash", "row_digest", "key_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0003_audit_keys_heads_and_enterprise_snapshot"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
