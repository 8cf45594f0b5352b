"""Appeal types (诉求类型): the second axis beside category.

Guangdong 12345 and the national 12345 guidelines sort every appeal as an enquiry, a request for
help, a suggestion, a complaint or a report. The knowledge base scopes its answers by type (an
enquiry is what a published answer can settle); deadline policies and routing rules may use it too
(``routing.deadlines.policy_for``, ``routing.decisions``).

The appellant chooses a type on the form or in the API. When they do not (an API client that
leaves it out, Open311, appeals filed before types existed), ``suggest_type`` reads the text:
cue words weighted by how plainly they name the type (the type's own word, 举报 or 投诉, is the
strongest), counted double in the title. Without any cue the appeal is a request for help (求助),
the most common type and the middle of the deadline range. Accuracy on the hand-labelled set in
``routing/data/appeal_types_labelled.jsonl`` is measured by ``measure_accuracy`` (run
``bench/appeal_type_accuracy.py``) and guarded by a test.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppealType(models.TextChoices):
    ENQUIRY = "enquiry", _("咨询")
    HELP = "help", _("求助")
    SUGGESTION = "suggestion", _("建议")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")


# Plain-language hints shown beside each type on the form (and in the API's type list).
TYPE_HINTS: dict[str, object] = {
    AppealType.ENQUIRY: _("想了解政策、办事条件或流程"),
    AppealType.HELP: _("遇到困难，请政府部门帮忙协调解决"),
    AppealType.SUGGESTION: _("对政策或服务提出改进意见"),
    AppealType.COMPLAINT: _("对部门或单位的办事效率、态度、不作为不满意"),
    AppealType.REPORT: _("反映违法违规行为，请有关部门查处"),
}

# What a type is when nothing in the text says otherwise.
DEFAULT_TYPE = AppealType.HELP


def is_known_type(code: str | None) -> bool:
    return bool(code) and code in AppealType.values


# Cue words per type with their weight. Words are matched on normalised text (Simplified,
# half-width, lower case). The type's own name is decisive; the rest are typical phrasings.
_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    AppealType.REPORT: (
        ("举报", 6),
        ("违法", 2),
        ("违规", 2),
        ("非法", 2),
        ("查处", 3),
        ("偷排", 3),
        ("偷税", 3),
        ("虚开", 3),
        ("假冒", 2),
        ("无证经营", 3),
        ("黑作坊", 3),
        ("索贿", 3),
        ("吃拿卡要", 3),
        ("诈骗", 2),
        ("传销", 3),
        ("严厉打击", 2),
        ("whistleblow", 4),
        ("illegal", 2),
        ("report a violation", 4),
    ),
    AppealType.COMPLAINT: (
        ("投诉", 6),
        ("不作为", 4),
        ("乱作为", 4),
        ("推诿", 3),
        ("踢皮球", 3),
        ("态度恶劣", 3),
        ("态度差", 3),
        ("态度很差", 3),
        ("刁难", 3),
        ("乱收费", 3),
        ("乱罚款", 3),
        ("不予理睬", 3),
        ("不执行", 2),
        ("拖着不办", 3),
        ("一直不办", 3),
        ("没人管", 2),
        ("不归他们管", 2),
        ("不满意", 2),
        ("太慢", 1),
        ("complain", 5),
        ("unacceptable", 2),
    ),
    AppealType.SUGGESTION: (
        ("建议", 5),
        ("意见", 2),
        ("提议", 4),
        ("呼吁", 3),
        ("能否考虑", 3),
        ("可否考虑", 3),
        ("可以考虑", 3),
        ("应当", 1),
        ("简化", 1),
        ("优化", 1),
        ("增设", 2),
        ("suggest", 5),
        ("recommend", 3),
        ("proposal", 4),
    ),
    AppealType.ENQUIRY: (
        ("咨询", 5),
        ("请问", 4),
        ("请教", 3),
        ("想了解", 4),
        ("想知道", 4),
        ("想问", 4),
        ("想确认", 3),
        ("如何", 2),
        ("怎么办理", 3),
        ("怎么申请", 3),
        ("怎么办", 1),
        ("哪些材料", 3),
        ("什么材料", 3),
        ("什么条件", 3),
        ("申报条件", 2),
        ("流程", 1),
        ("是否", 1),
        ("有没有", 1),
        ("多久", 1),
        ("?", 1),
        ("how do", 3),
        ("how can", 3),
        ("what are", 2),
        ("enquir", 5),
        ("inquir", 5),
        ("question", 2),
    ),
    AppealType.HELP: (
        ("求助", 5),
        ("请求帮助", 4),
        ("帮忙", 3),
        ("帮助", 2),
        ("协调", 3),
        ("急需", 2),
        ("救急", 3),
        ("解决", 1),
        ("困难", 1),
        ("please help", 4),
        ("need help", 4),
        ("assist", 2),
    ),
}

# At equal scores the heavier type wins: a text that reports and asks is a report.
_TIE_ORDER = (
    AppealType.REPORT,
    AppealType.COMPLAINT,
    AppealType.SUGGESTION,
    AppealType.ENQUIRY,
    AppealType.HELP,
)
TITLE_WEIGHT = 2.0


@dataclass(frozen=True)
class TypeSuggestion:
    """The suggested type and the words that led to it (empty: nothing matched, the default)."""

    appeal_type: str
    scores: dict[str, float] = field(default_factory=dict)
    cues: tuple[str, ...] = ()

    def as_explanation(self) -> dict[str, object]:
        return {"type": self.appeal_type, "cues": list(self.cues), "scores": self.scores}


def _score(text: str, weight: float) -> tuple[dict[str, float], dict[str, list[str]]]:
    scores: dict[str, float] = {}
    cues: dict[str, list[str]] = {}
    for code, words in _CUES.items():
        for word, value in words:
            if word in text:
                scores[code] = scores.get(code, 0.0) + value * weight
                cues.setdefault(code, []).append(word)
    return scores, cues


def suggest_type(title: str, description: str) -> TypeSuggestion:
    """The appeal type the text most plainly reads as (``DEFAULT_TYPE`` when nothing says)."""
    from routing.text_features import normalise

    totals: dict[str, float] = {}
    found: dict[str, list[str]] = {}
    for text, weight in ((normalise(title or ""), TITLE_WEIGHT), (normalise(description or ""), 1.0)):
        scores, cues = _score(text, weight)
        for code, value in scores.items():
            totals[code] = totals.get(code, 0.0) + value
            for word in cues[code]:
                if word not in found.setdefault(code, []):
                    found[code].append(word)
    if not totals:
        return TypeSuggestion(str(DEFAULT_TYPE))
    best = max(_TIE_ORDER, key=lambda code: (totals.get(code, 0.0), -_TIE_ORDER.index(code)))
    return TypeSuggestion(
        str(best), {code: round(value, 2) for code, value in totals.items()}, tuple(found.get(best, ()))
    )


@dataclass(frozen=True)
class ResolvedType:
    """The type an appeal is filed under, whether it was suggested, and what was wrong with the input."""

    appeal_type: str
    suggested: bool
    suggestion: TypeSuggestion | None = None
    # The caller's value when it was not a known type code (the appeal is then triaged with a reason).
    unknown_input: str = ""


def resolve_type(chosen: str | None, *, title: str, description: str) -> ResolvedType:
    """The appellant's type when it is a known code, else the suggestion from the text."""
    chosen = (chosen or "").strip()
    if is_known_type(chosen):
        return ResolvedType(chosen, suggested=False)
    suggestion = suggest_type(title, description)
    return ResolvedType(suggestion.appeal_type, suggested=True, suggestion=suggestion, unknown_input=chosen)


# --- Measuring the suggester ---------------------------------------------------------------------------

LABELLED_EXAMPLES = Path(__file__).resolve().parent / "data" / "appeal_types_labelled.jsonl"
# The generated training files label types in Chinese.
_ZH_CODES = {
    "咨询": "enquiry",
    "求助": "help",
    "建议": "suggestion",
    "投诉": "complaint",
    "举报": "report",
}


def labelled_examples(path: Path = LABELLED_EXAMPLES) -> list[tuple[str, str, str]]:
    """(title, description, type code) per line of a JSON-lines file with ``type`` labels."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append((row["title"], row.get("description", ""), _ZH_CODES.get(row["type"], row["type"])))
    return rows


def measure_accuracy(rows: list[tuple[str, str, str]]) -> dict[str, object]:
    """Accuracy of ``suggest_type`` on labelled rows, with the recall of each type."""
    confusion: Counter[tuple[str, str]] = Counter()
    for title, description, label in rows:
        confusion[(label, suggest_type(title, description).appeal_type)] += 1
    correct = sum(n for (label, guess), n in confusion.items() if label == guess)
    recall = {}
    for label in sorted({label for label, _guess in confusion}):
        total = sum(n for (gold, _guess), n in confusion.items() if gold == label)
        recall[label] = round(confusion[(label, label)] / total, 3)
    return {"examples": len(rows), "accuracy": round(correct / len(rows), 3), "recall_per_type": recall}
