"""The project's PostgreSQL backend: Django's, except that small bulk inserts use VALUES."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.postgresql.compiler import UNNEST_MIN_ROWS
from notifications.models import OutboxEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("Set DATABASE_URL to a PostgreSQL database to test the PostgreSQL backend.")


def _insert(rows: int) -> str:
    events = [
        OutboxEvent(event_type="appeal.submitted", payload={"n": n, "text": 'quote " and \\ backslash'})
        for n in range(rows)
    ]
    with CaptureQueriesContext(connection) as queries:
        OutboxEvent.objects.bulk_create(events)
    assert all(event.pk for event in events)
    (insert,) = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    return insert


def test_a_few_rows_are_inserted_with_values_and_read_back_unchanged():
    sql = _insert(3)
    assert "UNNEST" not in sql and "VALUES" in sql
    stored = list(OutboxEvent.objects.order_by("pk").values_list("payload", flat=True))
    assert stored == [{"n": n, "text": 'quote " and \\ backslash'} for n in range(3)]


def test_large_batches_still_use_unnest():
    sql = _insert(UNNEST_MIN_ROWS)
    assert "UNNEST" in sql
    assert OutboxEvent.objects.count() == UNNEST_MIN_ROWS
