"""Channels group names, in one place (the contract between publishers, consumers and live.js).

Group names may contain ASCII letters, digits, hyphens, underscores and periods only.
"""

from __future__ import annotations

import re

DISPATCH_GROUP = "dispatch"
SUPERVISION_GROUP = "supervision"

_GROUP_RE = re.compile(r"^(?:(?P<kind>bureau|appeal|user)\.(?P<id>[1-9][0-9]{0,17})|(?P<fixed>dispatch|supervision))$")


def bureau_group(bureau_id: int) -> str:
    """Every open console of one bureau: new dispatches, sign-fors, replies, deadline flags."""
    return f"bureau.{int(bureau_id)}"


def appeal_group(appeal_id: int) -> str:
    """Everyone looking at one appeal's page: its changes and who else is viewing or typing."""
    return f"appeal.{int(appeal_id)}"


def user_group(user_id: int) -> str:
    """One staff member's sessions: unread inbox count and personal events."""
    return f"user.{int(user_id)}"


def parse_group(name: str) -> tuple[str, int | None] | None:
    """``("bureau", 5)`` for ``"bureau.5"``, ``("dispatch", None)`` for ``"dispatch"``, None if malformed."""
    match = _GROUP_RE.match(name or "")
    if match is None:
        return None
    if match.group("fixed"):
        return match.group("fixed"), None
    return match.group("kind"), int(match.group("id"))
