"""Dashboard, analytics and report reads on a streaming replica; writes, logins and read-after-write on
the primary; a replica that lags, is down or fails mid-page falls back to the primary with a log line.

The router's rules are tested everywhere; the tests marked ``replica`` need a real PostgreSQL streaming
replica (``DATABASE_REPLICA_URL``), which CI starts with ``.ci/replica``.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from analytics import rollups
from analytics.models import Report
from appeals.models import Appeal
from config import replica
from tests import factories
from tests.analytics.conftest import SHANGHAI, build_world, simulate


@pytest.fixture
def healthy(monkeypatch):
    monkeypatch.setattr(replica.health, "usable_now", lambda: True)


# --- The router's rules (no replica needed) -----------------------------------------------------


def test_reads_go_to_the_replica_only_inside_an_opted_in_block(healthy):
    router = replica.ReplicaRouter()
    assert router.db_for_read(Appeal) is None
    with replica.reading_from_replica() as state:
        assert router.db_for_read(Appeal) == "replica"
        assert router.db_for_read(Report) == "replica"
        # Logins and sessions never: a lagging replica must not undo a sign-in.
        assert router.db_for_read(get_user_model()) is None
        assert state.used_replica
    assert router.db_for_read(Appeal) is None


def test_a_written_table_is_read_back_from_the_primary(healthy):
    router = replica.ReplicaRouter()
    with replica.reading_from_replica():
        assert router.db_for_write(Report) is None  # writes: always the primary
        assert router.db_for_read(Report) is None  # read-after-write
        assert router.db_for_read(Appeal) == "replica"  # other tables still from the replica


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary(healthy):
    router = replica.ReplicaRouter()
    with replica.reading_from_replica(), transaction.atomic():
        assert router.db_for_read(Appeal) is None


def test_an_unusable_replica_is_skipped(monkeypatch):
    monkeypatch.setattr(replica.health, "usable_now", lambda: False)
    with replica.reading_from_replica():
        assert replica.ReplicaRouter().db_for_read(Appeal) is None


def test_nothing_is_ever_migrated_on_the_replica():
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "appeals") is False
    assert router.allow_migrate("default", "appeals") is None


def test_a_replica_failure_mid_page_reruns_the_view_on_the_primary(healthy, caplog, monkeypatch):
    calls = []
    monkeypatch.setattr(replica.health, "mark_down", lambda reason: logging.getLogger("huying.replica").warning(reason))

    def view(request):
        state = replica._reads.get()
        calls.append(state.primary_only)
        return HttpResponse("ok")

    middleware = replica.ReplicaReadsMiddleware(view)
    request = RequestFactory().get("/analytics/")
    with replica.reading_from_replica() as state, caplog.at_level(logging.WARNING, logger="huying.replica"):
        state.used_replica = True
        response = middleware.process_exception(request, OperationalError("server closed the connection"))
    assert response.status_code == 200
    assert calls == [True]  # the second run reads from the primary only
    assert "failed during /analytics/" in caplog.text
    # Errors that are not the database's are left to Django.
    with replica.reading_from_replica() as state:
        state.used_replica = True
        assert middleware.process_exception(request, ValueError("bug")) is None


def test_the_weekly_report_task_reads_from_the_replica_and_other_tasks_do_not(monkeypatch):
    from config import celery as celery_module

    monkeypatch.setattr(replica, "configured", lambda: True)
    seen = {}

    class Task:
        def __init__(self, name):
            self.name = name

    for name, task_id in (("analytics.tasks.weekly_report", "a"), ("notifications.redispatch", "b")):
        celery_module._read_from_replica(task_id=task_id, task=Task(name))
        seen[name] = replica._reads.get() is not None
        celery_module._end_replica_reads(task_id=task_id)
    assert seen == {"analytics.tasks.weekly_report": True, "notifications.redispatch": False}
    assert replica._reads.get() is None


# --- Against a real streaming replica ----------------------------------------------------------

needs_replica = pytest.mark.skipif(
    "replica" not in settings.DATABASES,
    reason="Set DATABASE_REPLICA_URL to a streaming replica of DATABASE_URL's server (CI: .ci/replica).",
)


def real(test):
    """Marks for a test against the real replica: committed data (transactional), both aliases."""
    test = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])(test)
    return pytest.mark.replica(needs_replica(pytest.mark.usefixtures("fresh_health")(test)))


@pytest.fixture
def fresh_health():
    replica.health.reset()
    yield replica.health
    replica.health.reset()


def wait_for_replica(timeout: float = 20) -> None:
    """Until the replica has replayed everything the primary has committed so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        lsn = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@pytest.fixture
def populated_world(city, dispatch_centre):
    world = build_world(city, dispatch_centre)
    simulate(world, seed=7, count=16, start=datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI), days=30)
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), tick=False):
        rollups.update_rollups()
    return world


def _page(client, url: str):
    response = client.get(url, {"start": "2026-10-05", "end": "2026-11-29"})
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@real
def test_dashboard_reads_the_replica_and_matches_the_primary(client, populated_world):
    manager = factories.staff_user("manager", None)
    client.force_login(manager)
    wait_for_replica()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        from_replica = _page(client, "/analytics/")
    assert any("appeals_" in q["sql"] or "analytics_" in q["sql"] for q in on_replica.captured_queries)
    assert not any("django_session" in q["sql"] or "auth_user" in q["sql"] for q in on_replica.captured_queries)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replica.health, "usable_now", lambda: False)
        with CaptureQueriesContext(connections["replica"]) as none:
            from_primary = _page(client, "/analytics/")
    assert none.captured_queries == []
    assert from_replica == from_primary


def _paused_replay():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")


def _resume_replay():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")


@real
def test_a_lagging_replica_is_skipped_with_a_log_line(client, city, caplog, settings):
    settings.DATABASE_REPLICA_MAX_LAG = 0.5
    client.force_login(factories.staff_user("manager", None))
    wait_for_replica()
    _paused_replay()
    try:
        factories.submit(region=city, title="复制暂停期间提交")  # a commit the replica has not replayed
        time.sleep(1.2)
        with (
            caplog.at_level(logging.WARNING, logger="huying.replica"),
            CaptureQueriesContext(connections["replica"]) as on_replica,
        ):
            response = client.get("/analytics/")
        assert response.status_code == 200
        assert "lagging" in caplog.text and "reading from the primary instead" in caplog.text
        assert all("pg_last_wal" in q["sql"] for q in on_replica.captured_queries)  # only the health check
    finally:
        _resume_replay()


@real
def test_a_replica_that_is_down_is_skipped_and_a_failure_mid_page_reruns_it(client, caplog):
    client.force_login(factories.staff_user("manager", None))
    replica_settings = connections["replica"].settings_dict
    port = replica_settings["PORT"]
    connections["replica"].close()
    replica_settings["PORT"] = "18499"  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="huying.replica"):
            assert client.get("/analytics/").status_code == 200
        assert "unreachable" in caplog.text
        caplog.clear()
        # The health check said yes a moment ago, then the server went away: the page still renders.
        replica.health.reset()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(replica.health, "usable_now", lambda: True)
            with caplog.at_level(logging.WARNING, logger="huying.replica"):
                assert client.get("/analytics/").status_code == 200
        assert "failed during /analytics/" in caplog.text
    finally:
        connections["replica"].close()
        replica_settings["PORT"] = port


@real
def test_the_weekly_report_reads_appeals_from_the_replica(populated_world):
    from analytics.tasks import weekly_report

    wait_for_replica()
    with (
        time_machine.travel(datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI), tick=False),
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        report_id = weekly_report.apply().get()
    report = Report.objects.get(pk=report_id)
    assert report.status == Report.Status.DONE
    assert any('"appeals_appeal"' in q["sql"] for q in on_replica.captured_queries)
    # The report row it writes and reads back never comes from the replica.
    assert not any('"analytics_report"' in q["sql"] for q in on_replica.captured_queries)
