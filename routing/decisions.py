"""Routing decisions: which bureau answers an appeal, and why.

1. **Classifier.** The text is classified (``routing.classifier``) on every decision; the result
   is kept in the explanation either way.
   * The appellant chose "other": at or above ``AUTO_ROUTE_CONFIDENCE`` the suggested category is
     routed by the rules below; under it, the appeal goes to triage with the suggestion shown.
     Nothing is disputed: the appellant did not claim a category.
   * The appellant chose a category and the text *clearly contradicts* it — the classifier prefers
     another category and gives the chosen one at most ``CONTRADICTION_MAX_PROBABILITY`` — the
     appeal is flagged ``disputed``. At or above ``CONTRADICTION_AUTO_ROUTE_CONFIDENCE`` it is
     routed as the suggested category; under it, it goes to triage with the suggestion shown.
     The appellant's category is never changed on the appeal: it stays what they chose.
   * **The appellant's category wins** whenever the contradiction is not clear (the chosen
     category keeps more than the small probability above, the text is too short to overrule a
     choice — fewer than ``CONTRADICTION_MIN_FEATURES`` known n-grams, about a title and one
     sentence — or the classifier's favourite is "other"/a dispatch-centre category); and,
     with the dispute still flagged for the dispatcher, when the suggested category would land
     on the same bureau type anyway, or when an administrator's keyword rule for the chosen
     category matches the text (admins write keyword rules for wording the model does not know).
2. **Rules.** Active ``RoutingRule`` rows are tried by ascending priority; at equal priority the
   more specific rule first (district before city before any region; keywords and urgency count
   as more specific). A rule matches on category (blank = any), region (a city rule also covers
   its districts; a district rule only that district), urgency (blank = any) and keywords (any
   one in the title or description; blank = no keyword condition).
3. **Bureau.** The rule's bureau type is resolved to the active bureau of that type in the
   appeal's district if one exists, else in its city. No rule → the category's default bureau
   type the same way. Nothing resolvable, or the dispatch centre itself → triage (待分拨).

Every decision carries its explanation (rule, classifier scores, version), stored on the appeal.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeGuard

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from routing.classifier import Prediction, classify, routing_setting
from routing.models import Bureau, BureauType, Category, DeadlinePolicy, Region, RoutingRule

logger = logging.getLogger(__name__)


@dataclass
class RoutingDecision:
    bureau: Bureau | None
    rule: RoutingRule | None = None
    suggested_category: Category | None = None
    confidence: float | None = None
    disputed: bool = False
    classifier_version: str = ""
    explanation: dict[str, Any] = field(default_factory=dict)
    # The category the rules were applied to (the appellant's, or the classifier's suggestion).
    routed_category: Category | None = None

    @property
    def goes_to_triage(self) -> bool:
        return self.bureau is None


def keyword_list(keywords: str) -> list[str]:
    return [k.strip() for k in (keywords or "").replace("，", ",").replace("、", ",").split(",") if k.strip()]


def _rule_matches(rule: RoutingRule, *, category: Category, region: Region, text: str, urgency: str) -> bool:
    if rule.category_id is not None and rule.category_id != category.pk:
        return False
    if rule.region_id is not None and rule.region_id not in (region.pk, _city_id(region)):
        return False
    if rule.urgency and rule.urgency != urgency:
        return False
    keywords = keyword_list(rule.keywords)
    return not keywords or any(k in text for k in keywords)


def _specificity(rule: RoutingRule) -> int:
    score = 0
    if rule.region is not None:
        score += 4 if rule.region.level == Region.Level.DISTRICT else 2
    if rule.keywords.strip():
        score += 1
    if rule.urgency:
        score += 1
    return score


# --- The routing table: rules, bureaus, categories, regions and deadline policies, cached per process --
#
# Rules, bureaus and policies change a few times a year; decisions happen on every submission. The table is
# loaded once per process and reloaded when any of its models is saved or deleted (signals clear
# this process's copy and bump a version in Django's cache, which other processes compare at most
# once a second; with a per-process cache they reload after TABLE_MAX_AGE seconds). A steady-state
# decision therefore runs no query at all. Bulk ``QuerySet.update()`` sends no signal: call
# ``clear_routing_table()`` after one.

_TABLE_VERSION_KEY = "routing:table:version"
_TABLE_MAX_AGE = 60.0
_table_lock = threading.Lock()
_table: dict[str, Any] = {"data": None, "loaded_at": -1e9, "checked_at": -1e9, "version": None}
_generations = itertools.count(1)


@dataclass
class RoutingTable:
    rules: list[RoutingRule]
    bureaus: dict[tuple[int, int], Bureau]  # (bureau type id, region id) → active bureau
    categories: dict[str, Category]
    parents: dict[int, int | None]  # region id → parent (city) id for districts
    regions: dict[str, Region] = field(default_factory=dict)  # active regions by code
    policies: list[DeadlinePolicy] = field(default_factory=list)  # active deadline policies
    # Goes up each time this process loads the table: a key for anything derived from it, such as
    # the public form's rendered category and region lists.
    generation: int = 0

    @cached_property
    def regions_by_id(self) -> dict[int, Region]:
        return {region.pk: region for region in self.regions.values()}

    @cached_property
    def categories_by_id(self) -> dict[int, Category]:
        return {category.pk: category for category in self.categories.values()}


def _load_table() -> RoutingTable:
    rules = list(RoutingRule.objects.filter(is_active=True).select_related("target_type", "region"))
    rules.sort(key=lambda r: (r.priority, -_specificity(r), r.pk))
    bureaus = {
        (b.bureau_type_id, b.region_id): b
        for b in Bureau.objects.filter(is_active=True).select_related("bureau_type", "region")
    }
    categories = {c.code: c for c in Category.objects.filter(is_active=True).select_related("default_bureau_type")}
    all_regions = list(Region.objects.all())
    parents = {r.pk: (r.parent_id if r.level == Region.Level.DISTRICT else None) for r in all_regions}
    regions = {r.code: r for r in all_regions if r.is_active}
    policies = list(DeadlinePolicy.objects.filter(is_active=True))
    return RoutingTable(rules, bureaus, categories, parents, regions, policies, generation=next(_generations))


def routing_table() -> RoutingTable:
    now = time.monotonic()
    with _table_lock:
        data = _table["data"]
        stale = data is None or now - _table["loaded_at"] > _TABLE_MAX_AGE
        if not stale and now - _table["checked_at"] > 1.0:
            _table["checked_at"] = now
            stale = cache.get(_TABLE_VERSION_KEY) != _table["version"]
        if not stale:
            return data
    version = cache.get(_TABLE_VERSION_KEY)
    data = _load_table()
    with _table_lock:
        _table.update(data=data, loaded_at=now, checked_at=now, version=version)
    return data


def clear_routing_table(**kwargs: Any) -> None:
    """Forget the cached routing table here and (through the shared cache) in other processes.

    Called inside the transaction that changes a model, so the version is bumped again once it
    commits: another process that reloaded in between read the old rows and must reload again.
    """
    _bump_table_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump_table_version)


def _bump_table_version() -> None:
    cache.set(_TABLE_VERSION_KEY, uuid.uuid4().hex, None)
    with _table_lock:
        _table["data"] = None


for _model in (RoutingRule, Bureau, BureauType, Category, Region, DeadlinePolicy):
    post_save.connect(clear_routing_table, sender=_model, dispatch_uid=f"routing.table.save.{_model.__name__}")
    post_delete.connect(clear_routing_table, sender=_model, dispatch_uid=f"routing.table.delete.{_model.__name__}")


def ordered_rules() -> list[RoutingRule]:
    """Active rules in the order they are tried."""
    return routing_table().rules


def _city_id(region: Region) -> int:
    parent = routing_table().parents.get(region.pk)
    return parent if parent is not None else region.pk


def bureau_for(bureau_type_id: int, region: Region) -> Bureau | None:
    """The active bureau of a type for a region: the district's own bureau, else the city's."""
    bureaus = routing_table().bureaus
    return bureaus.get((bureau_type_id, region.pk)) or bureaus.get((bureau_type_id, _city_id(region)))


def _keyword_rule_confirms(category: Category, *, region: Region, text: str, urgency: str) -> bool:
    """An administrator's keyword rule written for the chosen category matches the text."""
    return any(
        rule.category_id == category.pk
        and keyword_list(rule.keywords)
        and _rule_matches(rule, category=category, region=region, text=text, urgency=urgency)
        for rule in ordered_rules()
    )


def _safe_classify(title: str, description: str) -> Prediction | None:
    try:
        return classify(title, description)
    except Exception:
        # A broken model must not stop appeals from being filed: rules still route them.
        logger.exception("Classifier failed; deciding on rules alone.")
        return None


def _category_by_code(code: str) -> Category | None:
    return routing_table().categories.get(code)


def _routable(category: Category | None) -> TypeGuard[Category]:
    return category is not None and not category.is_other and category.default_bureau_type.code != "dispatch"


def decide(
    *,
    category: Category,
    region: Region,
    title: str,
    description: str,
    urgency: str,
    use_classifier: bool = True,
) -> RoutingDecision:
    """Decide the responsible bureau for an appeal's data. Reads only; saves nothing."""
    text = f"{title}\n{description}"
    explanation: dict[str, Any] = {"chosen_category": category.code}
    prediction = _safe_classify(title, description) if use_classifier else None
    suggested: Category | None = None
    disputed = False
    routed = category
    if prediction is not None:
        explanation["classifier"] = prediction.as_explanation()
        if prediction.category != category.code:
            suggested = _category_by_code(prediction.category)

    def finish(bureau: Bureau | None, reason: str, rule: RoutingRule | None = None, **extra: Any) -> RoutingDecision:
        explanation.update(reason=reason, **extra)
        if rule is not None:
            explanation.update(rule_id=rule.pk, rule=rule.name)
        if routed is not category:
            explanation["routed_category"] = routed.code
        return RoutingDecision(
            bureau=bureau,
            rule=rule,
            suggested_category=suggested,
            confidence=prediction.confidence if prediction else None,
            disputed=disputed,
            classifier_version=prediction.version if prediction else "",
            explanation=explanation,
            routed_category=routed,
        )

    if category.is_other:
        auto = routing_setting("AUTO_ROUTE_CONFIDENCE", 0.7)
        if prediction is None:
            return finish(None, "category_other")
        if not _routable(suggested) or prediction.confidence < auto:
            return finish(None, "category_other_low_confidence", threshold=auto)
        routed = suggested
        explanation["basis"] = "classifier"
    elif prediction is not None and suggested is not None and _routable(suggested):
        ceiling = routing_setting("CONTRADICTION_MAX_PROBABILITY", 0.02)
        enough = prediction.feature_count >= routing_setting("CONTRADICTION_MIN_FEATURES", 60)
        if enough and prediction.probability(category.code) <= ceiling:
            disputed = True
            explanation["disputed"] = True
            same_type = suggested.default_bureau_type_id == category.default_bureau_type_id
            auto = routing_setting("CONTRADICTION_AUTO_ROUTE_CONFIDENCE", 0.8)
            if same_type:
                explanation["basis"] = "appellant_same_bureau_type"
            elif _keyword_rule_confirms(category, region=region, text=text, urgency=urgency):
                explanation["basis"] = "appellant_keyword_rule"
            elif prediction.confidence >= auto:
                routed = suggested
                explanation["basis"] = "classifier_contradiction"
            else:
                return finish(None, "disputed_low_confidence", threshold=auto)

    for rule in ordered_rules():
        if _rule_matches(rule, category=routed, region=region, text=text, urgency=urgency):
            bureau = bureau_for(rule.target_type_id, region)
            if bureau is not None and not bureau.is_dispatch_centre:
                return finish(bureau, "rule", rule=rule, bureau_name=bureau.name)
    bureau = bureau_for(routed.default_bureau_type_id, region)
    if bureau is not None and not bureau.is_dispatch_centre:
        return finish(bureau, "category_default", bureau_name=bureau.name)
    return finish(None, "no_rule")
