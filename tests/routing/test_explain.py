"""The routing explanation in sentences (routing.explain), in both languages."""

from __future__ import annotations

import pytest
from django.utils import translation

from routing.explain import explain_routing, reason_label
from routing.models import RoutingRule
from tests import factories

pytestmark = pytest.mark.django_db


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_a_rule_routed_appeal_names_the_rule_keywords_classifier_and_region(city):
    employment = factories.category("employment")
    rule = RoutingRule.objects.create(
        name="招聘会归人社", category=employment, keywords="招聘会,用工", target_type=factories.bureau_type("hrss")
    )
    explanation = {
        "chosen_category": "employment",
        "classifier": {"category": "employment", "confidence": 0.9134, "version": "nb-7", "top3": []},
        "region_detected": {"region": city.code, "source": "company", "words": "佛山"},
        "reason": "rule",
        "rule_id": rule.pk,
        "rule": rule.name,
        "bureau_name": "佛山市人社局",
    }
    sentences = explain_routing(explanation, text="希望组织专场招聘会")
    text = "\n".join(sentences)
    assert "按分拨规则自动派单" in text and "“招聘会归人社”" in text
    assert "命中的关键词：招聘会" in text and "用工" not in text.split("命中的关键词：")[1].split("\n")[0]
    assert "91%" in text and "nb-7" in text and employment.name in text
    assert "企业名称" in text and "佛山市" in text
    with translation.override("en"):
        english = "\n".join(explain_routing(explanation, text="希望组织专场招聘会"))
    assert "Routed automatically by a routing rule" in english and "91%" in english
    # Only the data itself (rule name, keywords, bureau, place words) may stay in Chinese.
    for data in ("招聘会归人社", "招聘会", "佛山市人社局", "佛山市", "佛山", employment.name):
        english = english.replace(data, "")
    assert not has_cjk(english), english


def test_a_triaged_then_dispatched_appeal_says_why_it_was_not_routed(city):
    explanation = {
        "chosen_category": "other",
        "classifier": {"category": "tax", "confidence": 0.41, "version": "nb-7"},
        "bureau_confidence": 0.45,
        "threshold": 0.7,
        "reason": "manual",
        "triage_reason": "category_other_low_confidence",
        "region_conflict": True,
    }
    text = "\n".join(explain_routing(explanation))
    assert "分拨员人工派单" in text
    assert "系统未自动派单的原因：“其他”类别，分类建议把握不足" in text
    assert "41%" in text and "45%" in text and "70%" in text
    assert "不一致" in text
    assert "{" not in text, "no JSON"


def test_empty_and_unknown_explanations_still_read_as_sentences():
    assert explain_routing({}) == ["没有保存分拨说明。"]
    assert explain_routing(None) == ["没有保存分拨说明。"]
    sentences = explain_routing({"reason": "no_rule"})
    assert sentences[0] == "未自动派单，转入待分拨。原因：没有匹配的分拨规则或承办单位。"
    assert any("没有分类模型的结果" in s for s in sentences)
    assert reason_label("something_new") == "something_new"


def test_the_appeal_type_and_where_it_came_from_are_explained():
    chosen = "\n".join(
        explain_routing({"reason": "rule", "appeal_type": "complaint", "appeal_type_basis": "appellant"})
    )
    assert "诉求人选择的诉求类型：投诉" in chosen
    suggested = explain_routing(
        {"reason": "rule", "appeal_type": "enquiry", "appeal_type_basis": "suggested", "appeal_type_cues": ["请问"]}
    )
    assert "诉求类型按内容建议为“咨询”（依据：请问）。" in suggested
    unknown = {
        "reason": "appeal_type_unknown",
        "appeal_type": "help",
        "appeal_type_basis": "suggested",
        "appeal_type_input": "乱填",
    }
    assert any("“乱填”无法识别" in s for s in explain_routing(unknown))
    with translation.override("en"):
        english = "\n".join(explain_routing(unknown)).replace("乱填", "")
    assert "not recognised" in english and not has_cjk(english), english
