"""Hooks other apps attach to audit-event kinds, run after the writing transaction commits.

The follow-up app selects a closed appeal for a call when it closes, and the problem-ticket app
re-checks an appeal when it is re-opened, returned, re-routed or supervised. Those apps sit above
``appeals`` (they call its services), so ``appeals`` cannot import them; they register here in their
``AppConfig.ready`` instead. A hook gets the appeal id and the event kind; it runs after commit, so
it never holds the appeal's lock and a failing hook never undoes the write (it is logged, and each
app's periodic job catches up).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import transaction

logger = logging.getLogger(__name__)

Hook = Callable[[int, str], None]
_HOOKS: dict[str, list[Hook]] = defaultdict(list)


def subscribe(kinds: Iterable[str], hook: Hook) -> None:
    """Run ``hook(appeal_id, kind)`` after commit whenever an event of one of ``kinds`` is recorded."""
    for kind in kinds:
        if hook not in _HOOKS[kind]:
            _HOOKS[kind].append(hook)


def _run(hook: Hook, appeal_id: int, kind: str) -> None:
    try:
        hook(appeal_id, kind)
    except Exception:
        logger.exception("Event hook %s failed for appeal %s (%s)", getattr(hook, "__name__", hook), appeal_id, kind)


def event_recorded(appeal_id: int, kind: str) -> None:
    """Schedule the hooks of ``kind`` for after the current transaction commits."""
    for hook in _HOOKS.get(kind, ()):
        transaction.on_commit(functools.partial(_run, hook, appeal_id, kind))
