"""Accuracy of the appeal type suggester (``routing.appeal_types.suggest_type``).

Measured on the hand-labelled set ``routing/data/appeal_types_labelled.jsonl`` (written for this
purpose: fifteen appeals per type, some without the type's own word) and, for comparison, on the
type labels of the generated training examples (``routing/data/training/generated.jsonl``: phrase
banks, so some labels are noisy — a "举报" whose text is "如题，急"). Run:

    .venv/bin/python bench/appeal_type_accuracy.py
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

LABELLED = ROOT / "routing" / "data" / "appeal_types_labelled.jsonl"
GENERATED = ROOT / "routing" / "data" / "training" / "generated.jsonl"
# The generated files label types in Chinese.
ZH_CODES = {"咨询": "enquiry", "求助": "help", "建议": "suggestion", "投诉": "complaint", "举报": "report"}


def load(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            label = row["type"]
            rows.append((row["title"], row.get("description", ""), ZH_CODES.get(label, label)))
    return rows


def measure(rows: list[tuple[str, str, str]]) -> dict[str, object]:
    from routing.appeal_types import suggest_type

    confusion: Counter[tuple[str, str]] = Counter()
    for title, description, label in rows:
        confusion[(label, suggest_type(title, description).appeal_type)] += 1
    correct = sum(n for (label, guess), n in confusion.items() if label == guess)
    per_type = {}
    for label in sorted({label for label, _guess in confusion}):
        total = sum(n for (gold, _g), n in confusion.items() if gold == label)
        per_type[label] = round(confusion[(label, label)] / total, 3)
    return {"examples": len(rows), "accuracy": round(correct / len(rows), 3), "recall_per_type": per_type}


def main() -> None:
    import django

    django.setup()
    for name, path in (("hand-labelled", LABELLED), ("generated", GENERATED)):
        print(name, json.dumps(measure(load(path)), ensure_ascii=False))


if __name__ == "__main__":
    main()
