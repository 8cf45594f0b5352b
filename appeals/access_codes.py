"""Tracking numbers and access codes for appellants, who never log in.

The access code is random (8 characters from an alphabet without look-alikes, ~40 bits) and is
stored as an HMAC-SHA256 keyed with the newest of ``ACCESS_CODE_KEYS`` — its own keys, not
SECRET_KEY, so rotating SECRET_KEY locks no appellant out. Older keys in the list still verify the
codes they hashed; rotate by putting a new key first. A slow password hash (PBKDF2) would add
~0.3 s to every submission and lookup; with the key kept secret and lookups rate limited, a keyed
hash is the right cost here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg import pq
from psycopg_pool import PoolTimeout

from appeals.models import TrackingSequence

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 8


def new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def normalise_access_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _keys() -> list[str]:
    keys = [key for key in settings.ACCESS_CODE_KEYS if key]
    if not keys:
        raise RuntimeError("ACCESS_CODE_KEYS is empty")
    return keys


def _digest(key: str, tracking_number: str, code: str) -> str:
    message = f"{tracking_number}:{normalise_access_code(code)}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def hash_access_code(tracking_number: str, code: str) -> str:
    """The stored form of an access code: HMAC-SHA256 under the newest of ``ACCESS_CODE_KEYS``."""
    return _digest(_keys()[0], tracking_number, code)


def check_access_code(tracking_number: str, code: str, stored_hash: str) -> bool:
    """Whether ``code`` is the access code of ``tracking_number`` under any key still listed.

    Every key is tried (no early exit), so the time taken does not tell which key matched.
    """
    matched = False
    for key in _keys():
        matched |= hmac.compare_digest(_digest(key, tracking_number, code), stored_hash)
    return matched


def next_tracking_number(day: date) -> str:
    """YYYYMMDD + a 6-digit per-day sequence, e.g. 20261123000042: unique, sortable, readable.

    On PostgreSQL the counter is incremented in its own short transaction on a second (pooled)
    connection, so its row lock is held for one statement rather than until the submitting
    transaction commits: held that long, the lock serialised every submission behind the previous
    one's commit (bench/submit_http.py measured ~2 appeals/s at 32 clients). A submission that
    fails afterwards leaves a gap in the day's numbers, which is harmless. The side transaction
    commits without waiting for its WAL flush: the appeal's own (synchronous) commit flushes the
    WAL past it, so a number is durable whenever an appeal using it is.

    Elsewhere (SQLite, where writers are serialised anyway) the counter is taken inside the
    caller's transaction, as late as possible.
    """
    if connection.vendor == "postgresql":
        value = _increment_on_side_connection(day)
        if value is not None:
            return f"{day:%Y%m%d}{value:06d}"
    with connection.cursor() as cursor:
        # One round trip on both PostgreSQL and SQLite (>= 3.35).
        cursor.execute(_UPSERT_SQL, [day])
        value = cursor.fetchone()[0]
    return f"{day:%Y%m%d}{value:06d}"


_TABLE = TrackingSequence._meta.db_table  # our own model's table name, not input
_UPSERT_SQL = (
    f"INSERT INTO {_TABLE} (day, last_value) VALUES (%s, 1) "  # noqa: S608
    f"ON CONFLICT (day) DO UPDATE SET last_value = {_TABLE}.last_value + 1 RETURNING last_value"
)


def _increment_on_side_connection(day: date) -> int | None:
    """The next value from a second connection, or None (then the caller's transaction is used).

    With Django's psycopg pool the side connection is borrowed for one statement with a short
    timeout: under load every request already holds one pooled connection, and waiting long for a
    second could starve the pool. Without the pool a short-lived direct connection is opened.
    """
    pool = getattr(connection, "pool", None)
    if pool is not None:
        pool.open()  # no-op once Django has opened it
        try:
            raw = pool.getconn(timeout=0.5)
        except PoolTimeout:
            return None
        try:
            return _increment(raw, day)
        finally:
            pool.putconn(raw)
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        side.ensure_connection()
        return _increment(side.connection, day)
    finally:
        side.close()


def _increment(raw, day: date) -> int:
    """One round trip: BEGIN; SET LOCAL; upsert; COMMIT sent as a single simple-protocol query.

    The day is inlined as an ISO date literal built from a ``date`` (never from input); simple-protocol
    queries take no parameters, and this saves three round trips per submission.
    """
    if raw.info.transaction_status != pq.TransactionStatus.IDLE:  # a pool connection is returned idle
        raw.rollback()
    literal = date.fromordinal(day.toordinal()).isoformat()  # strictly YYYY-MM-DD
    script = "BEGIN; SET LOCAL synchronous_commit = off; " + _UPSERT_SQL.replace("%s", f"DATE '{literal}'") + "; COMMIT"
    with raw.cursor() as cursor:
        cursor.execute(script.encode(), prepare=False)
        while cursor.description is None or cursor.description[0].name != "last_value":
            if not cursor.nextset():
                raise RuntimeError("the tracking counter returned no value")
        return cursor.fetchone()[0]
