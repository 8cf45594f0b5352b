"""Routing decisions: which bureau answers an appeal, and why.

1. **Classifier.** The text is classified (``routing.classifier``) on every decision; the result
   is kept in the explanation either way.
   * The appellant chose "other": when the classifier is at least ``AUTO_ROUTE_CONFIDENCE`` sure of
     the suggested category's *bureau type* (the summed probability of the categories that default
     to it; unset: the threshold calibrated with the model version), the suggestion is routed by
     the rules below; under it, the appeal goes to triage with the suggestion shown.
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
   more specific rule first (district before city before any region; keywords, urgency and appeal
   type count as more specific). A rule matches on category (blank = any), region (a city rule
   also covers its districts; a district rule only that district), urgency (blank = any), appeal
   type (blank = any) and keywords (any one in the title or description; blank = no keyword
   condition).
3. **Bureau.** The rule's bureau type is resolved to the active bureau of that type in the
   appeal's district if one exists, else in its city. No rule → the category's default bureau
   type the same way. Nothing resolvable, or the dispatch centre itself → triage (待分拨).

**Appeal type.** The appellant's type (咨询 求助 建议 投诉 举报) is used as given; when it is missing
the type suggested from the text (``routing.appeal_types.suggest_type``) is used, and the
explanation says which (``appeal_type_basis``: ``appellant`` or ``suggested``, with the cue words).
A value that is not a type code never stops a decision: the suggestion is used and the appeal goes
to triage (``appeal_type_unknown``) with what was given shown.

Every decision carries its explanation (rule, classifier scores, version), stored on the appeal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from django.utils.translation import gettext_lazy as _

from routing.appeal_types import AppealType, resolve_type
from routing.classifier import Prediction, classify
from routing.conf import routing_setting
from routing.models import Bureau, Category, Region, RoutingRule
from routing.regions import detect_region

# The table lives in routing.table; these names stay importable from here for existing callers.
from routing.table import RoutingTable, clear_routing_table, routing_table

__all__ = ["RoutingDecision", "RoutingTable", "clear_routing_table", "decide", "routing_table"]

logger = logging.getLogger(__name__)

# Every triage reason a decision can carry (``explanation["reason"]``), in words for the dispatcher.
TRIAGE_REASONS: dict[str, Any] = {
    "category_other": _("诉求人选择了“其他”类别"),
    "category_other_low_confidence": _("“其他”类别，分类建议把握不足"),
    "disputed_low_confidence": _("填报类别与内容不符，分类建议把握不足"),
    "no_rule": _("没有匹配的分拨规则或承办单位"),
    "router_error": _("自动分拨出错"),
    "region_unknown": _("所在地区无法识别，内容和企业名称中也没有找到地区"),
    "region_inactive": _("所选地区已停用"),
    "region_conflict": _("所选地区与企业名称或内容中的地区不一致"),
    "category_unknown": _("填报的类别无法识别"),
    "category_inactive": _("所选类别已停用"),
    "appeal_type_unknown": _("填报的诉求类型无法识别（已按内容建议类型）"),
}


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
    # The region the rules were applied to: the appellant's, or the one their text or company name
    # named when theirs was unknown or inactive (see ``explanation["region_basis"]``).
    routed_region: Region | None = None
    # The appeal type the rules were applied to, and whether it was suggested from the text
    # (the appellant gave none, or an unknown value) rather than chosen.
    appeal_type: str = ""
    appeal_type_suggested: bool = False

    @property
    def goes_to_triage(self) -> bool:
        return self.bureau is None


def keyword_list(keywords: str) -> list[str]:
    return [k.strip() for k in (keywords or "").replace("，", ",").replace("、", ",").split(",") if k.strip()]


def _rule_matches(
    rule: RoutingRule, *, category: Category, region: Region, text: str, urgency: str, appeal_type: str = ""
) -> bool:
    if rule.category_id is not None and rule.category_id != category.pk:
        return False
    if rule.appeal_type and rule.appeal_type != appeal_type:
        return False
    if rule.region_id is not None and rule.region_id not in (region.pk, _city_id(region)):
        return False
    if rule.urgency and rule.urgency != urgency:
        return False
    keywords = keyword_list(rule.keywords)
    return not keywords or any(k in text for k in keywords)


def ordered_rules() -> list[RoutingRule]:
    """Active rules in the order they are tried."""
    return routing_table().rules


def _city_id(region: Region) -> int:
    return routing_table().city_id(region)


def bureau_for(bureau_type_id: int, region: Region) -> Bureau | None:
    """The active bureau of a type for a region: the district's own bureau, else the city's."""
    return routing_table().bureau_for(bureau_type_id, region)


def _keyword_rule_confirms(
    category: Category, *, region: Region, text: str, urgency: str, appeal_type: str = ""
) -> bool:
    """An administrator's keyword rule written for the chosen category matches the text."""
    return any(
        rule.category_id == category.pk
        and keyword_list(rule.keywords)
        and _rule_matches(rule, category=category, region=region, text=text, urgency=urgency, appeal_type=appeal_type)
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


def _check_region(
    region: Region, *, enterprise_name: str, title: str, description: str, region_input: str
) -> tuple[Region, str, dict[str, Any]]:
    """(region to route in, triage reason or "", explanation entries) for the appellant's region.

    An unknown region (filed under the province) or an inactive one is replaced by the region the
    company name or the text names, when they name exactly one; otherwise the appeal is triaged. A
    known region that the company name or text contradicts (another city) is kept but triaged, with
    both shown to the dispatcher: the appellant's choice is never silently overridden.
    """
    table = routing_table()
    notes: dict[str, Any] = {}
    if region_input:
        notes["region_input"] = region_input
    mention = detect_region(enterprise_name=enterprise_name, title=title, description=description)
    if mention is not None:
        notes["region_detected"] = {"region": mention.region.code, "source": mention.source, "words": mention.name}
    if region.level == Region.Level.PROVINCE or region.code not in table.all_regions:
        problem = "region_unknown"
    elif region.code not in table.regions:
        problem = "region_inactive"
    else:
        if mention is not None and table.city_id(mention.region) != table.city_id(region):
            notes["region_conflict"] = True
            return region, "region_conflict", notes
        return region, "", notes
    if mention is not None and mention.region.code in table.regions:
        notes["region_basis"] = mention.source
        notes["region_problem"] = problem
        return mention.region, "", notes
    return region, problem, notes


def _auto_threshold(prediction: Prediction) -> float:
    """``AUTO_ROUTE_CONFIDENCE`` when set, else the threshold calibrated with the model version."""
    configured = routing_setting("AUTO_ROUTE_CONFIDENCE", None)
    if configured is not None:
        return float(configured)
    return prediction.auto_threshold if prediction.auto_threshold is not None else 0.7


def _bureau_confidence(prediction: Prediction, suggested: Category | None) -> float:
    """How sure the classifier is of the suggested category's bureau type: the summed probability
    of the active categories that default to it (financing and loan deferral both reach finance)."""
    if suggested is None:
        return 0.0
    type_id = suggested.default_bureau_type_id
    return sum(
        prediction.probability(code)
        for code, category in routing_table().categories.items()
        if category.default_bureau_type_id == type_id
    )


def decide(
    *,
    category: Category,
    region: Region,
    title: str,
    description: str,
    urgency: str,
    use_classifier: bool = True,
    enterprise_name: str = "",
    region_input: str = "",
    category_input: str = "",
    appeal_type: str = "",
) -> RoutingDecision:
    """Decide the responsible bureau for an appeal's data. Reads only; saves nothing.

    ``enterprise_name`` helps find the region ("东莞市长安镇某某厂"). ``region_input`` and
    ``category_input`` carry what the caller typed when it matched nothing (the region is then the
    province row, the category "other"), so the explanation can show it. Whatever is unknown, the
    classifier still answers and the explanation says why the appeal went to triage.
    ``appeal_type`` is the appellant's type code (blank: suggest one from the text).
    """
    text = f"{title}\n{description}"
    explanation: dict[str, Any] = {"chosen_category": category.code}
    given_region = region
    region, region_problem, region_notes = _check_region(
        region, enterprise_name=enterprise_name, title=title, description=description, region_input=region_input
    )
    explanation.update(region_notes)
    if region is not given_region:
        explanation["routed_region"] = region.code
    resolved = resolve_type(appeal_type, title=title, description=description)
    type_problem = ""
    explanation["appeal_type"] = resolved.appeal_type
    explanation["appeal_type_label"] = str(AppealType(resolved.appeal_type).label)
    explanation["appeal_type_basis"] = "suggested" if resolved.suggested else "appellant"
    if resolved.suggestion is not None and resolved.suggestion.cues:
        explanation["appeal_type_cues"] = list(resolved.suggestion.cues)
    if resolved.unknown_input:
        explanation["appeal_type_input"] = resolved.unknown_input
        type_problem = "appeal_type_unknown"
    category_problem = ""
    if category_input:
        explanation["category_input"] = category_input
        category_problem = "category_unknown"
    elif category.code not in routing_table().categories:
        category_problem = "category_inactive"
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
            routed_region=region,
            appeal_type=resolved.appeal_type,
            appeal_type_suggested=resolved.suggested,
        )

    # Unknown values never stop a decision: the classifier has answered above (its suggestion is
    # kept), and the dispatcher is told what was wrong.
    if category_problem:
        return finish(None, category_problem)
    if region_problem:
        return finish(None, region_problem)
    if type_problem:
        return finish(None, type_problem)
    if category.is_other:
        if prediction is None:
            return finish(None, "category_other")
        auto = _auto_threshold(prediction)
        confidence = _bureau_confidence(prediction, suggested)
        explanation["bureau_confidence"] = round(confidence, 4)
        if not _routable(suggested) or confidence < auto:
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
            elif _keyword_rule_confirms(
                category, region=region, text=text, urgency=urgency, appeal_type=resolved.appeal_type
            ):
                explanation["basis"] = "appellant_keyword_rule"
            elif prediction.confidence >= auto:
                routed = suggested
                explanation["basis"] = "classifier_contradiction"
            else:
                return finish(None, "disputed_low_confidence", threshold=auto)

    for rule in ordered_rules():
        if _rule_matches(
            rule, category=routed, region=region, text=text, urgency=urgency, appeal_type=resolved.appeal_type
        ):
            bureau = bureau_for(rule.target_type_id, region)
            if bureau is not None and not bureau.is_dispatch_centre:
                return finish(bureau, "rule", rule=rule, bureau_name=bureau.name)
    bureau = bureau_for(routed.default_bureau_type_id, region)
    if bureau is not None and not bureau.is_dispatch_centre:
        return finish(bureau, "category_default", bureau_name=bureau.name)
    return finish(None, "no_rule")
