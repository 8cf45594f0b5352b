"""Heavy reads on a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``), never at the cost of a page.

Only reads that opt in go to the replica: GET requests under ``DATABASE_REPLICA_PATHS`` (the dashboard
and analytics pages, report downloads; :class:`ReplicaReadsMiddleware`) and the Celery tasks named in
``DATABASE_REPLICA_TASKS`` (the weekly report; wired in config/celery.py). Inside them, the router
sends reads of the appeal, routing and analytics tables to the replica and keeps on the primary:

* every write, and every read of a table this request or task has written (read-after-write: the
  weekly report's own row and the rollups it has just brought up to date come from the primary, the
  appeals it summarises from the replica);
* every read inside a transaction on the primary;
* sessions, users and permissions (a login must never look undone because the replica lags);
* everything, for a few seconds, once the replica is unreachable or lags more than
  ``DATABASE_REPLICA_MAX_LAG`` seconds: a log line says so and the primary answers instead.

A query that fails on the replica in the middle of a page (the server went away after the health
check) makes the middleware run the view again on the primary, so the visitor sees the page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("huying.replica")

ALIAS = "replica"
# Tables whose slightly stale copy is fine for statistics; auth, sessions and the rest stay primary.
ROUTED_APPS = frozenset({"appeals", "routing", "analytics"})

# 0 when the replica has replayed all it received, else seconds since the last replayed commit
# (an idle primary makes that overstate the lag until replay catches up: a safe error).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


@dataclass
class _Reads:
    """What one request or task has done so far."""

    written: set[str] = field(default_factory=set)
    used_replica: bool = False
    primary_only: bool = False


_reads: ContextVar[_Reads | None] = ContextVar("huying_replica_reads", default=None)


def configured() -> bool:
    return ALIAS in settings.DATABASES


@contextmanager
def reading_from_replica() -> Iterator[_Reads]:
    """Let the reads in this block go to the replica (when configured, healthy and no write came first)."""
    state = _Reads()
    token = _reads.set(state)
    try:
        yield state
    finally:
        _reads.reset(token)


class _Health:
    """A per-process, time-limited answer to "may we read from the replica now?"."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.usable = False
        self.reason = ""

    def usable_now(self) -> bool:
        interval = settings.DATABASE_REPLICA_CHECK_SECONDS
        if time.monotonic() - self.checked_at < interval:
            return self.usable
        with self.lock:
            if time.monotonic() - self.checked_at >= interval:
                self._check()
        return self.usable

    def _check(self) -> None:
        max_lag = settings.DATABASE_REPLICA_MAX_LAG
        try:
            with connections[ALIAS].cursor() as cursor:
                cursor.execute(LAG_SQL)
                lag = float(cursor.fetchone()[0])
        except DatabaseError as exc:
            connections[ALIAS].close()
            self.mark_down(f"unreachable ({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r})")
            return
        self.checked_at = time.monotonic()
        if lag > max_lag:
            self.usable, self.reason = False, f"lagging {lag:.0f} s behind (limit {max_lag:.0f} s)"
            logger.warning("Read replica %s: reading from the primary instead.", self.reason)
            return
        if not self.usable:
            logger.info("Read replica in use (lag %.1f s).", lag)
        self.usable, self.reason = True, ""

    def mark_down(self, reason: str) -> None:
        self.checked_at = time.monotonic()
        self.usable, self.reason = False, reason
        logger.warning("Read replica %s: reading from the primary instead.", reason)

    def reset(self) -> None:
        self.checked_at, self.usable, self.reason = float("-inf"), False, ""


health = _Health()


class ReplicaRouter:
    """Django database router: opted-in reads to the replica, everything else to the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        state = _reads.get()
        if state is None or state.primary_only or model._meta.app_label not in ROUTED_APPS:
            return None
        if model._meta.label in state.written:
            return None
        if connections["default"].in_atomic_block or not health.usable_now():
            return None
        state.used_replica = True
        return ALIAS

    def db_for_write(self, model, **hints) -> str | None:
        state = _reads.get()
        if state is not None:
            state.written.add(model._meta.label)  # from now on this table is read on the primary
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == ALIAS else None


class ReplicaReadsMiddleware:
    """GET and HEAD requests under ``DATABASE_REPLICA_PATHS`` read from the replica; a replica failure
    mid-request re-runs the view on the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not configured()
            or request.method not in ("GET", "HEAD")
            or not request.path.startswith(tuple(settings.DATABASE_REPLICA_PATHS))
        ):
            return self.get_response(request)
        with reading_from_replica():
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        state = _reads.get()
        if state is None or not state.used_replica or state.primary_only or not isinstance(exception, DatabaseError):
            return None
        if configured():
            connections[ALIAS].close()
        health.mark_down(f"failed during {request.path} ({type(exception).__name__})")
        state.primary_only = True
        return self.get_response(request)
