"""Demo data for ``manage.py seed_demo`` and for benchmarks.

- ``setup_organisation(cities)``: the taxonomy's bureaus for the cities and one login per role.
- ``seed_appeals(org, n)``: appeals made through the real services over the past weeks.
- ``settle_notifications(after_id=)``: demo history's outbox rows recorded as not delivered.
- ``generate_bulk(count, start=, end=, seed=, batch_size=, progress=)``: many appeals written in
  batches with valid audit chains and ratings, over the past two years (benchmarks, 1M rows).
"""

from __future__ import annotations

from appeals.demo.bulk import BulkResult, generate_bulk
from appeals.demo.history import last_outbox_id, settle_notifications
from appeals.demo.organisation import (
    DEFAULT_CITIES,
    DEMO_PASSWORD,
    DemoOrganisation,
    available_cities,
    login_rows,
    setup_organisation,
)
from appeals.demo.workflow import seed_appeals


def state_counts() -> list[tuple[str, int]]:
    """(state label, number of appeals) for every state, in workflow order."""
    from django.db.models import Count

    from appeals.models import Appeal, AppealState

    counts = dict(Appeal.objects.order_by().values_list("state").annotate(n=Count("id")))
    return [(str(state.label), counts.get(state.value, 0)) for state in AppealState]


__all__ = [
    "DEFAULT_CITIES",
    "DEMO_PASSWORD",
    "BulkResult",
    "DemoOrganisation",
    "available_cities",
    "generate_bulk",
    "last_outbox_id",
    "login_rows",
    "seed_appeals",
    "settle_notifications",
    "setup_organisation",
    "state_counts",
]
