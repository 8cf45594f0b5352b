"""Learning from dispatchers: their manual routing decisions become labelled training examples.

Reads the audit trail of appeals (never writes an appeal); writes ``TrainingExample`` rows that
``routing.classifier.train`` uses. ``appeals.services.dispatch`` keeps a re-route at once;
``harvest_training_examples`` (nightly, before retraining) picks up everything else.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from appeals.models import Appeal, AppealEvent
from routing.models import Bureau, Category, TrainingExample

# Audit events that record a person's routing decision (manual dispatch from triage, arbitration
# after a return, re-route). Harvested by ``harvest_training_examples``.
MANUAL_ROUTING_KINDS = ("dispatched", "redispatched", "rerouted")


def infer_label(appeal: Appeal, bureau: Bureau) -> Category | None:
    """The category a dispatcher's choice of ``bureau`` implies for ``appeal``.

    The appellant's category if it belongs to that bureau type; else the only category of that
    type; else, among several, the one the classifier rates highest. None when the bureau type
    has no categories of its own (e.g. the dispatch centre).
    """
    category = appeal.category
    if not category.is_other and category.default_bureau_type_id == bureau.bureau_type_id:
        return category
    candidates = list(Category.objects.filter(default_bureau_type_id=bureau.bureau_type_id, is_active=True))
    candidates = [c for c in candidates if not c.is_other]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    from routing.classifier import classify

    scores = classify(appeal.title, appeal.description).scores
    return max(candidates, key=lambda c: scores.get(c.code, 0.0))


def example_from_event(event: Any, *, appeal: Appeal | None = None) -> TrainingExample | None:
    """Keep one manual routing event as a labelled example (idempotent on the event id)."""
    data = event.data or {}
    if event.kind not in MANUAL_ROUTING_KINDS or event.actor_kind != "staff":
        return None
    if event.kind == "dispatched" and not data.get("manual"):
        return None
    if TrainingExample.objects.filter(source_event_id=event.pk).exists():
        return None
    appeal = appeal or Appeal.objects.select_related("category").get(pk=event.appeal_id)
    label = None
    if data.get("label_category"):
        label = Category.objects.filter(code=data["label_category"]).first()
    if label is None and data.get("bureau_id"):
        bureau = Bureau.objects.filter(pk=data["bureau_id"]).first()
        label = infer_label(appeal, bureau) if bureau is not None else None
    if label is None:
        return None
    try:
        with transaction.atomic():
            return TrainingExample.objects.create(
                title=appeal.title,
                description=appeal.description,
                category=label,
                source=TrainingExample.Source.DISPATCHER,
                appeal_id=appeal.pk,
                source_event_id=event.pk,
            )
    except IntegrityError:
        return None  # harvested concurrently


def harvest_training_examples() -> int:
    """Turn every not-yet-harvested manual routing audit event into a TrainingExample.

    Manual dispatches and arbitrations are recorded in the audit trail by ``appeals.services``;
    reading them back here keeps the learning loop out of those services. Returns the number of
    new examples.
    """
    harvested = set(TrainingExample.objects.exclude(source_event_id=None).values_list("source_event_id", flat=True))
    events = AppealEvent.objects.filter(kind__in=MANUAL_ROUTING_KINDS, actor_kind="staff").order_by("id")
    created = 0
    for event in events.iterator():
        if event.pk in harvested:
            continue
        if example_from_event(event) is not None:
            created += 1
    return created
