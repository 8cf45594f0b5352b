"""The routing app's settings: one accessor for ``settings.ROUTING``.

Every routing module reads its knobs (classifier thresholds, working hours, sweep timings) through
``routing_setting`` so a test's ``settings`` override and the defaults documented in
``config/settings/`` behave the same everywhere.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def routing_setting(name: str, default: Any) -> Any:
    """``settings.ROUTING[name]``, or ``default`` when the key (or the whole dict) is missing."""
    return getattr(settings, "ROUTING", {}).get(name, default)
