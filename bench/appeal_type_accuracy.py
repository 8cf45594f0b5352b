"""Accuracy of the appeal type suggester (``routing.appeal_types.suggest_type``).

Measured on the hand-labelled set ``routing/data/appeal_types_labelled.jsonl`` (written for this
purpose: about fifteen appeals per type, many without the type's own word) and, for comparison, on
the type labels of the generated training examples (``routing/data/training/generated.jsonl``:
phrase banks, so some labels are noisy — a "举报" whose text is "如题，急"). Run:

    .venv/bin/python bench/appeal_type_accuracy.py

Recorded 2026-12-03: hand-labelled 74 examples, accuracy 0.838 (recall: complaint 0.71, enquiry
0.87, help 0.93, report 0.73, suggestion 0.93); generated 2700 examples, accuracy 0.853.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GENERATED = ROOT / "routing" / "data" / "training" / "generated.jsonl"


def main() -> None:
    import django

    django.setup()
    from routing.appeal_types import LABELLED_EXAMPLES, labelled_examples, measure_accuracy

    for name, path in (("hand-labelled", LABELLED_EXAMPLES), ("generated", GENERATED)):
        print(name, json.dumps(measure_accuracy(labelled_examples(path)), ensure_ascii=False))


if __name__ == "__main__":
    main()
