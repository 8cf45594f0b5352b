"""No HTTP 500 after a committed write: 50 concurrent API supplements and withdrawals on one appeal.

django-fsm-2's ``refresh_from_db`` switches ``protected`` off and on again on the state field object,
which every Appeal instance shares; two threads doing it at once made one of them fail with "Direct
state modification is not allowed" after its write had committed, and a client that retried filed a
duplicate. Real concurrent connections need PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from appeals.api.models import ApiClient
from appeals.models import Appeal, AppealMessage, AppealState
from tests import factories


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_writes_never_answer_500(portal_city):
    if connection.vendor != "postgresql":
        pytest.skip("Real concurrent connections need PostgreSQL (set DATABASE_URL); SQLite serialises writers.")
    _client, key = ApiClient.create_with_key(name="并发测试", channel=ApiClient.Channel.API)
    submitted = factories.submit(region=portal_city)
    tracking, code = submitted.appeal.tracking_number, submitted.access_code
    barrier = threading.Barrier(10)

    def call(i: int) -> tuple[str, int]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
        api.raise_request_exception = False
        try:
            if i < 10:
                barrier.wait(timeout=30)
            if i == 40:
                response = api.post(f"/api/appeals/{tracking}/withdraw/", {"access_code": code}, format="json")
                return "withdraw", response.status_code
            body = {"access_code": code, "body": f"补充说明第{i}条"}
            response = api.post(f"/api/appeals/{tracking}/supplements/", body, format="json")
            return "supplement", response.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(call, range(50)))
    counts = Counter(results)
    print("concurrent API writes:", dict(counts))
    assert not [r for r in results if r[1] >= 500], counts
    assert counts[("withdraw", 200)] == 1
    supplements_saved = counts[("supplement", 201)]
    assert supplements_saved + counts[("supplement", 409)] == 49
    # Exactly the rows the answers promised: one message per 201, none for a 409.
    assert AppealMessage.objects.filter(appeal=submitted.appeal, kind="appellant").count() == supplements_saved
    assert Appeal.objects.get(pk=submitted.appeal.pk).state == AppealState.WITHDRAWN
