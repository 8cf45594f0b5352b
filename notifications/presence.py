"""Who is looking at (or writing a reply to) an appeal right now.

Kept in the cache (Redis in production, shared by every web process) under one key per appeal,
mapping each websocket connection to (user, status, expiry). Entries expire after
``NOTIFY_PRESENCE_TTL`` seconds unless the browser refreshes them (live.js does every 20 s), so a
process that died without cleaning up disappears on its own. Two connections writing the same key
at the same instant can lose one update; the next refresh restores it.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

STATUSES = ("viewing", "typing", "idle", "left")
# When one person has several tabs open, the most active status is shown.
_RANK = {"typing": 3, "viewing": 2, "idle": 1}


def _key(appeal_id: int) -> str:
    return f"presence:appeal:{int(appeal_id)}"


def _ttl() -> int:
    return int(getattr(settings, "NOTIFY_PRESENCE_TTL", 60))


def _live(entries: dict[str, Any], now: float) -> dict[str, Any]:
    return {channel: entry for channel, entry in entries.items() if entry.get("expires", 0) > now}


def update(*, appeal_id: int, channel_name: str, user_id: int, name: str, status: str) -> list[dict[str, Any]]:
    """Record ``status`` for one connection ("left" removes it); return the appeal's current users."""
    now = time.time()
    entries = _live(cache.get(_key(appeal_id)) or {}, now)
    if status == "left":
        entries.pop(channel_name, None)
    else:
        entries[channel_name] = {"id": user_id, "name": name, "status": status, "expires": now + _ttl()}
    cache.set(_key(appeal_id), entries, _ttl() * 2)
    return users(entries)


def users(entries: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per person with their most active status, sorted by id (stable for the UI)."""
    best: dict[int, dict[str, Any]] = {}
    for entry in entries.values():
        seen = best.get(entry["id"])
        if seen is None or _RANK.get(entry["status"], 0) > _RANK.get(seen["status"], 0):
            best[entry["id"]] = {"id": entry["id"], "name": entry["name"], "status": entry["status"]}
    return [best[user_id] for user_id in sorted(best)]
