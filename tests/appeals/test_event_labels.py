"""Every audit event kind the code writes has a label in Chinese and in English.

The kinds are read from the source (every ``kind=`` passed to the services' write helpers,
``"kind": …`` rows, assignments to ``kind``, the deadline sweep's steps and the message kinds),
so a new kind without a label fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

import appeals
from appeals.event_labels import EVENT_LABELS, KEPT_BUREAU_LABEL, event_label
from appeals.models import AppealMessage
from appeals.services.escalation import STEPS

WRITERS = {"record", "commit", "run_transition", "record_event", "event"}


def _strings(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    if isinstance(node, ast.Tuple):
        return _strings(node.elts[0]) if node.elts else set()
    return set()


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def kinds_written() -> set[str]:
    root = Path(appeals.__file__).parent
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in WRITERS:
                for keyword in node.keywords:
                    if keyword.arg == "kind":
                        found |= _strings(keyword.value)
                if _call_name(node) == "event" and node.args:
                    found |= _strings(node.args[0])
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "kind" and "services" in path.parts:
                        found |= _strings(value)
            elif isinstance(node, ast.Assign) and "services" in path.parts:
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    if names and isinstance(names[0], ast.Name) and names[0].id == "kind":
                        found |= _strings(node.value)
    found |= {kind for _marker, kind, _event in STEPS}
    found |= {f"message.{value}" for value in AppealMessage.Kind.values}
    return found


def test_the_scan_finds_the_kinds():
    written = kinds_written()
    expected = {"submitted", "triage", "dispatched", "rerouted", "clock_paused", "deadline_supervised", "unmerged"}
    assert expected | {"supervisor_urged", "supervisor_supervised", "extension_refused", "message.contact"} <= written


def test_every_kind_written_has_a_label():
    missing = kinds_written() - set(EVENT_LABELS)
    assert not missing, f"event kinds without a label in appeals/event_labels.py: {sorted(missing)}"


def test_every_label_has_an_english_translation_without_chinese():
    labels = [*EVENT_LABELS.values(), KEPT_BUREAU_LABEL]
    with translation.override("en"):
        for label in labels:
            text = str(label)
            assert text and not any("\u4e00" <= ch <= "\u9fff" for ch in text), (label, text)
    with translation.override("zh-hans"):
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(label)) for label in labels)


def test_labels_in_words_and_unknown_kinds_show_their_code():
    with translation.override("en"):
        assert event_label("deadline_supervised") == "Supervision for being overdue (system)"
        assert event_label("redispatched", {"kept": True}) == "Return reviewed: kept with the original bureau"
        assert event_label("redispatched", {"kept": False}) == "Return reviewed: re-routed"
    assert event_label("no_such_kind") == "no_such_kind"
