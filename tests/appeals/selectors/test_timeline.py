"""The staff timeline names every kind of audit event the services write."""

from __future__ import annotations

import re
from pathlib import Path

import appeals.services
from appeals.selectors import EVENT_LABELS
from appeals.services.escalation import STEPS


def test_every_event_kind_the_services_write_has_a_label():
    package = Path(appeals.services.__file__).parent
    written = set()
    for path in package.glob("*.py"):
        written |= set(re.findall(r'\bkind="([a-z_]+)"', path.read_text()))
        written |= set(re.findall(r'"kind": "([a-z_]+)"', path.read_text()))
    written |= {kind for _marker, kind, _event in STEPS} | {"triage", "dispatched"}
    written.discard("kind")
    assert {"submitted", "rerouted", "clock_paused", "deadline_urged"} <= written, "the scan finds the kinds"
    assert written - set(EVENT_LABELS) == set()
