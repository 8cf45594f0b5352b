"""The state diagram in docs/ is generated from the model and must be current."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command
from django.utils import translation

from appeals.management.commands import state_diagram
from appeals.models import Appeal, AppealState

DOCS = Path(__file__).resolve().parents[2] / "docs"
STALE = "docs/{name} is out of date: run `make docs` and commit the result."


def _run(*args) -> str:
    out = io.StringIO()
    with translation.override("zh-hans"):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_mermaid_document_is_current():
    assert (DOCS / "state-machine.md").read_text(encoding="utf-8") == _run("state_diagram"), STALE.format(
        name="state-machine.md"
    )


def test_graphviz_document_is_current():
    # graph_transitions emits edges from a set, so its line order varies between runs: compare as sets of lines.
    checked_in = (DOCS / "state-machine.dot").read_text(encoding="utf-8")
    generated = _run("graph_transitions", "appeals.Appeal")
    assert sorted(checked_in.splitlines()) == sorted(generated.splitlines()), STALE.format(name="state-machine.dot")


def test_diagram_has_every_state_and_transition_edge_from_the_model():
    text = _run("state_diagram")
    for state in AppealState:
        assert f'state "{state.label} {state.value}" as {state.value}' in text
    field = Appeal._meta.get_field("state")
    edges = {(str(t.source), str(t.target), t.name) for t in field.get_all_transitions(Appeal)}
    assert len(edges) >= 20
    for source, target, name in edges:
        label = str(state_diagram.TRANSITION_LABELS[name])
        assert f"    {source} --> {target}: {label}" in text
    # Final states end the diagram; the initial state starts it.
    assert "[*] --> submitted" in text
    for final in ("closed", "withdrawn", "rejected", "merged"):
        assert f"{final} --> [*]" in text
    assert "handling --> [*]" not in text


def test_permissions_and_conditions_are_named():
    text = _run("state_diagram")
    assert "在退单时限内（`within_return_window`）" in text
    assert "被派单位的负责人（`is_bureau_lead`）" in text
    assert "| `reopen` | 重办 | 已答复 | 办理中 |" in text


def test_every_transition_and_predicate_has_a_chinese_name():
    field = Appeal._meta.get_field("state")
    for transition in field.get_all_transitions(Appeal):
        assert transition.name in state_diagram.TRANSITION_LABELS, transition.name
        assert transition.permission.__name__ in state_diagram.PREDICATE_LABELS
        for condition in transition.conditions:
            assert condition.__name__ in state_diagram.PREDICATE_LABELS


def test_english_output_uses_the_translation_machinery():
    out = io.StringIO()
    call_command("state_diagram", "--language", "en", stdout=out)
    assert "stateDiagram-v2" in out.getvalue()
