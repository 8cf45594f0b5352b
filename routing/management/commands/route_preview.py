"""``manage.py route_preview FILE.jsonl``: where would these appeals go? Nothing is saved.

Reads one JSON object per line with ``id``, ``title``, ``description``, ``region`` (a region code
such as ``foshan``, a GB/T 2260 code such as ``440606``, or a name such as ``佛山市``/``顺德区``),
optional ``company`` (or ``enterprise_name``), ``category`` (code or Chinese name; missing means
"other"), ``type`` (or ``appeal_type``: ``enquiry`` … ``report`` or 咨询 … 举报; missing means
suggested from the text) and ``urgency`` (``normal``/``urgent``; ``urgent: true`` also works).
Writes one JSON line per input to stdout:

    {"id": …, "category": …, "confidence": …, "reason": …, "bureau": …, "rule": …, "region": …}

``category`` is the category the classifier suggests (the appellant's when they agree),
``reason`` why the decision was made (``rule``/``category_default`` when routed, else the triage
reason such as ``region_unknown`` or ``category_other_low_confidence``), ``bureau`` the bureau
name or null for triage, ``region`` the region routed in, plus ``disputed``/``chosen_category``
``appeal_type``/``appeal_type_basis`` (``appellant`` or ``suggested``) and any region notes
(``region_detected``, ``region_conflict``). An unknown region, category, type or a
missing field never stops a line: it is decided and triaged with its reason. Only a line that is
not JSON at all yields ``{"line": …, "error": …}``. ``-`` reads standard input.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from routing.appeal_types import AppealType
from routing.decisions import decide
from routing.models import Category
from routing.regions import province_region, resolve_region


class Command(BaseCommand):
    help = "Preview routing decisions for appeals given as JSON lines (nothing is saved)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSON lines file (- for standard input)")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        categories: dict[str, Category] = {}
        for category in Category.objects.select_related("default_bureau_type"):
            categories[category.code] = category
            categories.setdefault(category.name, category)
        other = next((c for c in categories.values() if c.is_other), None)
        if other is None:
            raise CommandError("No 'other' category is configured: load the taxonomy (manage.py migrate).")
        out = self.stdout
        # Deciding only reads, but the atomic block rolled back at the end guarantees nothing stays.
        with transaction.atomic():
            with stream:
                for number, line in enumerate(stream, 1):
                    if not line.strip():
                        continue
                    out.write(json.dumps(self._preview(line, number, categories, other), ensure_ascii=False))
            transaction.set_rollback(True)

    def _preview(self, line: str, number: int, categories: dict[str, Category], other: Category) -> dict[str, Any]:
        try:
            item = json.loads(line)
        except ValueError:
            return {"id": None, "line": number, "error": "not valid JSON"}
        if not isinstance(item, dict):
            # A bare string is still an appeal text; anything else has nothing to classify.
            item = {"description": item} if isinstance(item, str) else {"description": json.dumps(item)}
        ident = item.get("id", number)
        raw_region = str(item.get("region") or "").strip()
        region = resolve_region(raw_region)
        region_input = "" if region is not None else raw_region or "(missing)"
        if region is None:
            region = province_region()
        raw_category = str(item.get("category") or "").strip()
        category = categories.get(raw_category) if raw_category else other
        category_input = ""
        if category is None:
            category, category_input = other, raw_category
        raw_type = str(item.get("type") or item.get("appeal_type") or "").strip()
        type_names = {str(label): code for code, label in AppealType.choices}
        appeal_type = type_names.get(raw_type, raw_type)
        urgency = item.get("urgency") or ("urgent" if item.get("urgent") is True else "normal")
        decision = decide(
            category=category,
            region=region,
            title=str(item.get("title") or ""),
            description=str(item.get("description") or ""),
            urgency=str(urgency),
            enterprise_name=str(item.get("company") or item.get("enterprise_name") or ""),
            region_input=region_input,
            category_input=category_input,
            appeal_type=appeal_type,
        )
        explanation = decision.explanation
        suggested = (explanation.get("classifier") or {}).get("category")
        result = {
            "id": ident,
            "category": suggested or category.code,
            "confidence": round(decision.confidence, 4) if decision.confidence is not None else None,
            "reason": explanation.get("reason"),
            "bureau": decision.bureau.name if decision.bureau else None,
            "rule": decision.rule.name if decision.rule else None,
            "region": decision.routed_region.code if decision.routed_region else region.code,
            "chosen_category": category_input or category.code,
            "disputed": decision.disputed,
            "appeal_type": decision.appeal_type,
            "appeal_type_basis": explanation.get("appeal_type_basis"),
            "classifier_version": decision.classifier_version,
        }
        for key in ("region_input", "region_detected", "region_conflict", "region_basis", "appeal_type_input"):
            if key in explanation:
                result[key] = explanation[key]
        if decision.goes_to_triage:
            result["triage_reason"] = explanation.get("reason")
        return result
