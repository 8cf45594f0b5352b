"""Tracking numbers: unique per day, and on PostgreSQL a slow submission does not hold up others."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from appeals import access_codes


@pytest.mark.django_db
def test_numbers_are_sequential_per_day_and_unique():
    day = timezone.localdate()
    numbers = [access_codes.next_tracking_number(day) for _ in range(5)]
    assert len(set(numbers)) == 5
    assert all(n.startswith(f"{day:%Y%m%d}") and len(n) == 14 for n in numbers)
    assert [int(n[-6:]) for n in numbers] == sorted(int(n[-6:]) for n in numbers)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_open_submission_does_not_block_the_next_number():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers by design")
    day = timezone.localdate()
    taken = threading.Event()
    release = threading.Event()
    first: list[str] = []

    def slow_submission():
        try:
            with transaction.atomic():
                first.append(access_codes.next_tracking_number(day))
                taken.set()
                release.wait(10)  # the appeal's transaction is still open here
        finally:
            connections.close_all()

    worker = threading.Thread(target=slow_submission)
    worker.start()
    try:
        assert taken.wait(10)
        done = threading.Event()
        second: list[str] = []

        def next_one():
            try:
                with transaction.atomic():
                    second.append(access_codes.next_tracking_number(day))
                done.set()
            finally:
                connections.close_all()

        other = threading.Thread(target=next_one)
        other.start()
        assert done.wait(5), "the second submission waited for the first one's commit"
        other.join()
        assert second[0] != first[0]
    finally:
        release.set()
        worker.join()
