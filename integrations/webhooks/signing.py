"""The webhook signature: HMAC-SHA256 over ``<timestamp>.<body>`` with the endpoint's secret.

Headers on every delivery (docs/integrations.md shows a receiver in Python):

* ``Huying-Webhook-Id`` — the event id; the same event retried keeps it, so receivers de-duplicate on it;
* ``Huying-Webhook-Timestamp`` — Unix seconds when this attempt was signed;
* ``Huying-Webhook-Signature`` — ``v1=<hex digest>``.

A receiver recomputes the digest, compares in constant time and refuses timestamps outside its
replay window (``REPLAY_WINDOW_SECONDS`` by default) so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

ID_HEADER = "Huying-Webhook-Id"
TIMESTAMP_HEADER = "Huying-Webhook-Timestamp"
SIGNATURE_HEADER = "Huying-Webhook-Signature"
SCHEME = "v1"
REPLAY_WINDOW_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>`` for one body signed at ``timestamp``."""
    message = str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def headers(*, secret: str, event_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one delivery attempt."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: signature(secret=secret, timestamp=stamp, body=body),
    }


def verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str,
    signature_header: str,
    now: float | None = None,
    window: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is inside the replay window."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > window:
        return False
    expected = signature(secret=secret, timestamp=stamp, body=body)
    candidates = [part.strip() for part in (signature_header or "").split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
