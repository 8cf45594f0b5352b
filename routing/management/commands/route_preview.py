"""``manage.py route_preview FILE.jsonl``: where would these appeals go? Nothing is saved.

Reads one JSON object per line with ``id``, ``title``, ``description``, ``region`` (a region code
such as ``foshan`` or its Chinese name such as ``佛山市``) and optional ``category`` (code; missing
means "other") and ``urgency`` (``normal``/``urgent``; ``urgent: true`` also works). Writes one
JSON line per input to stdout:

    {"id": …, "category": …, "confidence": …, "bureau": …, "rule": …}

``category`` is the category the classifier suggests (the appellant's when they agree),
``bureau`` the bureau name or null for triage, ``rule`` the matching rule's name or null, plus
``triage_reason``/``disputed``/``chosen_category`` so a dispatcher can read the decision. A line
that cannot be read yields ``{"id": …, "error": "…"}`` and the run continues. Also used as the
dispatcher's bulk-import preview. ``-`` reads standard input.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from routing.decisions import decide
from routing.models import Category, Region


class Command(BaseCommand):
    help = "Preview routing decisions for appeals given as JSON lines (nothing is saved)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSON lines file (- for standard input)")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        categories = {c.code: c for c in Category.objects.select_related("default_bureau_type")}
        other = next((c for c in categories.values() if c.is_other), None)
        regions: dict[str, Region] = {}
        for region in Region.objects.select_related("parent"):
            regions[region.code] = region
            regions.setdefault(region.name, region)
        out = self.stdout
        # Deciding only reads, but the atomic block rolled back at the end guarantees nothing stays.
        with transaction.atomic():
            with stream:
                for number, line in enumerate(stream, 1):
                    if not line.strip():
                        continue
                    out.write(json.dumps(self._preview(line, number, categories, other, regions), ensure_ascii=False))
            transaction.set_rollback(True)

    def _preview(self, line: str, number: int, categories, other, regions) -> dict[str, Any]:
        try:
            item = json.loads(line)
        except ValueError:
            return {"id": None, "line": number, "error": "not valid JSON"}
        if not isinstance(item, dict):
            return {"id": None, "line": number, "error": "not a JSON object"}
        ident = item.get("id")
        region = regions.get(str(item.get("region", "")).strip())
        if region is None:
            return {"id": ident, "error": f"unknown region: {item.get('region')!r}"}
        code = item.get("category") or ""
        category = categories.get(code) if code else other
        if category is None:
            return {"id": ident, "error": f"unknown category: {code!r}"}
        urgency = item.get("urgency") or ("urgent" if item.get("urgent") is True else "normal")
        decision = decide(
            category=category,
            region=region,
            title=str(item.get("title", "")),
            description=str(item.get("description", "")),
            urgency=urgency,
        )
        suggested = (decision.explanation.get("classifier") or {}).get("category")
        result = {
            "id": ident,
            "category": suggested or category.code,
            "confidence": round(decision.confidence, 4) if decision.confidence is not None else None,
            "bureau": decision.bureau.name if decision.bureau else None,
            "rule": decision.rule.name if decision.rule else None,
            "chosen_category": category.code,
            "disputed": decision.disputed,
            "classifier_version": decision.classifier_version,
        }
        if decision.goes_to_triage:
            result["triage_reason"] = decision.explanation.get("reason")
        return result
