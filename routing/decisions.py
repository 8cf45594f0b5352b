"""Routing decisions: which bureau answers an appeal, and why.

Rules (``RoutingRule``) are tried by priority: category × region (× keywords, urgency) → a bureau
type, resolved to the bureau of that type in the appeal's city. When no rule matches, the
category's default bureau type is used; when that cannot be resolved either, the appeal goes to
the dispatcher's triage queue. Every decision carries its explanation, stored on the appeal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routing.models import Bureau, Category, Region, RoutingRule


@dataclass
class RoutingDecision:
    bureau: Bureau | None
    rule: RoutingRule | None = None
    suggested_category: Category | None = None
    confidence: float | None = None
    disputed: bool = False
    classifier_version: str = ""
    explanation: dict[str, Any] = field(default_factory=dict)

    @property
    def goes_to_triage(self) -> bool:
        return self.bureau is None


def _rule_matches(rule: RoutingRule, *, category: Category, region: Region, text: str, urgency: str) -> bool:
    if rule.category_id is not None and rule.category_id != category.pk:
        return False
    if rule.region_id is not None and rule.region_id not in (region.pk, region.city.pk):
        return False
    if rule.urgency and rule.urgency != urgency:
        return False
    keywords = [k.strip() for k in rule.keywords.replace("，", ",").split(",") if k.strip()]
    return not keywords or any(k in text for k in keywords)


def _bureau_for(bureau_type_id: int, region: Region) -> Bureau | None:
    return (
        Bureau.objects.select_related("bureau_type", "region")
        .filter(bureau_type_id=bureau_type_id, region=region.city, is_active=True)
        .first()
    )


def decide(*, category: Category, region: Region, title: str, description: str, urgency: str) -> RoutingDecision:
    """Decide the responsible bureau for an appeal's data. Reads only; saves nothing."""
    text = f"{title}\n{description}"
    if category.is_other:
        return RoutingDecision(bureau=None, explanation={"reason": "category_other"})
    rules = RoutingRule.objects.filter(is_active=True).select_related("target_type").order_by("priority", "id")
    for rule in rules:
        if _rule_matches(rule, category=category, region=region, text=text, urgency=urgency):
            bureau = _bureau_for(rule.target_type_id, region)
            if bureau is not None:
                return RoutingDecision(
                    bureau=bureau,
                    rule=rule,
                    explanation={"reason": "rule", "rule_id": rule.pk, "rule": rule.name},
                )
    bureau = _bureau_for(category.default_bureau_type_id, region)
    if bureau is not None and not bureau.is_dispatch_centre:
        return RoutingDecision(bureau=bureau, explanation={"reason": "category_default"})
    return RoutingDecision(bureau=None, explanation={"reason": "no_rule"})
