"""Two officers signing for the same appeal at the same moment: exactly one wins.

Runs with real concurrent database connections (one per thread) on PostgreSQL, where the row lock
(SELECT … FOR UPDATE) and django-fsm-2's ConcurrentTransitionMixin are what keep the second
officer from overwriting the first.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from appeals import services
from appeals.models import Appeal, AppealEvent, AppealState
from tests import factories


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_signing_at_once_exactly_one_wins(city, hrss):
    if connection.vendor != "postgresql":
        pytest.skip("Real concurrent connections need PostgreSQL (set DATABASE_URL); SQLite serialises writers.")
    officers = [factories.staff_user("officer", hrss) for _ in range(2)]
    for _round in range(5):
        appeal = factories.submit(region=city).appeal
        barrier = threading.Barrier(len(officers))
        outcomes: list[object] = []

        def sign(user, appeal_id=appeal.pk, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                outcomes.append(services.appeal_sign_for(appeal_id=appeal_id, user=user).officer_id)
            except services.StateConflict as exc:
                outcomes.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sign, args=(user,)) for user in officers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        winners = [o for o in outcomes if not isinstance(o, Exception)]
        conflicts = [o for o in outcomes if isinstance(o, services.StateConflict)]
        assert len(winners) == 1, outcomes
        assert len(conflicts) == 1, outcomes
        assert conflicts[0].status == 409
        fresh = Appeal.objects.get(pk=appeal.pk)
        assert fresh.state == AppealState.HANDLING
        assert fresh.officer_id == winners[0]
        assert AppealEvent.objects.filter(appeal=appeal, kind="signed_for").count() == 1


@pytest.mark.django_db
def test_a_stale_in_memory_appeal_cannot_overwrite_a_newer_state(city, hrss, officer):
    """ConcurrentTransitionMixin: saving a transition made on an outdated copy raises."""
    from django.utils import timezone
    from django_fsm import ConcurrentTransition

    appeal = factories.submit(region=city).appeal
    first = Appeal.objects.get(pk=appeal.pk)
    second = Appeal.objects.get(pk=appeal.pk)
    first.sign_for(officer=officer, at=timezone.now())
    first.save()
    second.return_to_dispatch()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.HANDLING
