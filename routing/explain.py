"""A routing decision's stored explanation (``Appeal.routing_explanation``) in sentences.

The explanation is the dictionary ``routing.decisions.decide`` writes (rule, classifier scores,
region notes, the triage reason), later extended by a dispatcher's manual dispatch or re-route
(``reason`` ``manual``/``manual_reroute``, with what routing had said kept under
``triage_reason``/``previous_reason``). Dispatchers and bureau leads read it on the console's
appeal page; the admin shows the same sentences instead of the raw JSON.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing.appeal_types import AppealType
from routing.decisions import TRIAGE_REASONS, keyword_list
from routing.models import Category, Region, RoutingRule

# How an appeal left routing, beside the triage reasons (``routing.decisions.TRIAGE_REASONS``).
ROUTED_REASONS: dict[str, Any] = {
    "rule": gettext_lazy("按分拨规则自动派单"),
    "category_default": gettext_lazy("没有专门规则，按类别的默认承办单位自动派单"),
    "manual": gettext_lazy("分拨员人工派单"),
    "manual_reroute": gettext_lazy("分拨员人工改派"),
}
BASIS: dict[str, Any] = {
    "classifier": gettext_lazy("诉求人选择了“其他”，按分类模型的建议类别派单。"),
    "classifier_contradiction": gettext_lazy("填报类别与内容明显不符，按分类模型的建议类别派单。"),
    "appellant_same_bureau_type": gettext_lazy("内容与填报类别不符，但两者归同一类承办单位，按诉求人选择的类别派单。"),
    "appellant_keyword_rule": gettext_lazy(
        "内容与填报类别不符，但管理员为该类别设置的关键词规则命中，按诉求人选择的类别派单。"
    ),
}
REGION_SOURCES: dict[str, Any] = {"company": gettext_lazy("企业名称"), "text": gettext_lazy("诉求内容")}


def _category_name(code: str | None) -> str:
    if not code:
        return ""
    category = Category.objects.filter(code=code).first()
    return category.display_name if category is not None else code


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    region = Region.objects.filter(code=code).first()
    return region.display_name if region is not None else code


def _percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


def reason_label(code: str) -> str:
    """One reason code in words (a triage reason or how the appeal was routed); the code if unknown."""
    label = ROUTED_REASONS.get(code) or TRIAGE_REASONS.get(code)
    return str(label) if label is not None else code


def explain_routing(explanation: dict[str, Any] | None, *, text: str = "") -> list[str]:
    """Sentences saying how the appeal was routed and why, in the active language.

    ``text`` is the appeal's title and description, to name the rule's keywords it contains.
    An empty explanation (appeals filed before explanations were kept) gives one sentence.
    """
    data = dict(explanation or {})
    if not data:
        return [_("没有保存分拨说明。")]
    sentences: list[str] = []
    reason = str(data.get("reason") or "")
    if reason in ("manual", "manual_reroute"):
        sentences.append(reason_label(reason) + _("。"))
        earlier = str(data.get("triage_reason") or data.get("previous_reason") or "")
        if earlier in TRIAGE_REASONS:
            sentences.append(_("系统未自动派单的原因：%(reason)s。") % {"reason": reason_label(earlier)})
        elif earlier in ROUTED_REASONS:
            sentences.append(_("此前：%(reason)s。") % {"reason": reason_label(earlier)})
    elif reason in TRIAGE_REASONS:
        sentences.append(_("未自动派单，转入待分拨。原因：%(reason)s。") % {"reason": reason_label(reason)})
    elif reason in ROUTED_REASONS:
        sentences.append(reason_label(reason) + _("。"))
    elif reason:
        sentences.append(_("分拨结果：%(reason)s。") % {"reason": reason})

    if data.get("rule") or data.get("rule_id"):
        rule_id = data.get("rule_id")
        rule = RoutingRule.objects.filter(pk=int(rule_id)).first() if rule_id else None
        name = str(data.get("rule") or (rule.name if rule else ""))
        sentences.append(_("命中的分拨规则：“%(rule)s”。") % {"rule": name})
        keywords = keyword_list(rule.keywords) if rule is not None else []
        if keywords:
            hits = [k for k in keywords if k in text]
            if hits:
                sentences.append(_("命中的关键词：%(words)s。") % {"words": "、".join(hits)})
            else:
                sentences.append(_("规则关键词（%(words)s）现在不在诉求内容中。") % {"words": "、".join(keywords)})
    if data.get("bureau_name"):
        sentences.append(_("派往：%(bureau)s。") % {"bureau": data["bureau_name"]})

    chosen = data.get("chosen_category")
    if data.get("category_input"):
        sentences.append(_("诉求人填写的类别“%(input)s”无法识别。") % {"input": data["category_input"]})
    elif chosen:
        sentences.append(_("诉求人选择的类别：%(category)s。") % {"category": _category_name(chosen)})
    classifier = data.get("classifier") or {}
    if classifier:
        sentences.append(
            _("分类模型判断为“%(category)s”，置信度 %(confidence)s（模型版本 %(version)s）。")
            % {
                "category": _category_name(classifier.get("category")),
                "confidence": _percent(classifier.get("confidence")),
                "version": classifier.get("version") or "—",
            }
        )
        if data.get("bureau_confidence") is not None:
            sentences.append(
                _("对承办单位类型的把握：%(confidence)s，自动派单门槛 %(threshold)s。")
                % {
                    "confidence": _percent(data.get("bureau_confidence")),
                    "threshold": _percent(data.get("threshold", classifier.get("threshold"))),
                }
            )
        elif data.get("threshold") is not None:
            sentences.append(_("自动派单门槛：%(threshold)s。") % {"threshold": _percent(data["threshold"])})
    else:
        sentences.append(_("没有分类模型的结果（未启用或出错），只按规则判断。"))
    if data.get("disputed"):
        sentences.append(_("填报类别与诉求内容明显不符（类别存疑）。"))
    if data.get("basis") in BASIS:
        sentences.append(str(BASIS[data["basis"]]))
    if data.get("routed_category") and data.get("routed_category") != chosen:
        sentences.append(_("按类别“%(category)s”分拨。") % {"category": _category_name(data["routed_category"])})

    appeal_type = data.get("appeal_type")
    if appeal_type in AppealType.values:
        type_name = AppealType(appeal_type).label
        if data.get("appeal_type_input"):
            sentences.append(
                _("诉求人填写的诉求类型“%(input)s”无法识别，按内容建议为“%(type)s”。")
                % {"input": data["appeal_type_input"], "type": type_name}
            )
        elif data.get("appeal_type_basis") == "suggested":
            cues = "、".join(str(c) for c in data.get("appeal_type_cues") or [])
            if cues:
                sentences.append(
                    _("诉求类型按内容建议为“%(type)s”（依据：%(cues)s）。") % {"type": type_name, "cues": cues}
                )
            else:
                sentences.append(_("诉求类型按内容建议为“%(type)s”。") % {"type": type_name})
        else:
            sentences.append(_("诉求人选择的诉求类型：%(type)s。") % {"type": type_name})

    if data.get("region_input"):
        sentences.append(_("诉求人填写的地区“%(input)s”无法识别。") % {"input": data["region_input"]})
    detected = data.get("region_detected") or {}
    if detected:
        words = {
            "source": str(REGION_SOURCES.get(detected.get("source", ""), detected.get("source", ""))),
            "words": detected.get("words", ""),
            "region": _region_name(detected.get("region")),
        }
        if words["region"] and words["region"] != words["words"]:
            sentences.append(_("从%(source)s中识别出地区“%(words)s”（%(region)s）。") % words)
        else:
            sentences.append(_("从%(source)s中识别出地区“%(words)s”。") % words)
    if data.get("region_conflict"):
        sentences.append(_("所选地区与企业名称或内容中的地区不一致，交分拨员确认。"))
    if data.get("routed_region"):
        sentences.append(_("按识别出的地区 %(region)s 分拨。") % {"region": _region_name(data["routed_region"])})
    return sentences
