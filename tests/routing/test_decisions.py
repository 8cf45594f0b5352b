"""Routing rules, triage and the classifier's part in a decision; route_preview."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from appeals.models import Appeal
from routing.decisions import decide, routing_table
from routing.models import Bureau, RoutingRule
from tests import factories

HIRING = ("春节后招不到普工", "工厂年后只回来一半工人，急需招聘普工和技工，希望人社部门帮忙对接劳务输出地和招聘会。")
ELECTRICITY = (
    "工厂电费太高",
    "我们是注塑厂，调整峰谷电价后电费增加了两成，变压器扩容报装也要三个月，希望了解电价优惠。",
)
VAGUE = ("情况说明", "有事情需要反映，具体情况电话里说。")


def run(category: str, region, text=HIRING, urgency="normal"):
    return decide(
        category=factories.category(category), region=region, title=text[0], description=text[1], urgency=urgency
    )


@pytest.mark.django_db
def test_default_rule_routes_the_category_to_its_bureau_in_the_city(city, hrss, finance):
    decision = run("employment", city)
    assert decision.bureau == hrss
    assert decision.rule is not None and decision.rule.category.code == "employment"
    assert decision.explanation["reason"] == "rule"
    assert decision.explanation["classifier"]["category"] == "employment"
    assert decision.classifier_version.startswith("lr-robust-")
    assert not decision.disputed


@pytest.mark.django_db
def test_a_district_appeal_goes_to_its_citys_bureau_unless_the_district_has_its_own(city, district, hrss):
    assert run("employment", district).bureau == hrss
    shunde_hrss = factories.BureauFactory(region=district, bureau_type=factories.bureau_type("hrss"))
    assert run("employment", district).bureau == shunde_hrss
    assert run("employment", city).bureau == hrss


@pytest.mark.django_db
def test_district_keyword_and_urgency_rules_by_priority_and_specificity(city, district, hrss, finance):
    employment = factories.category("employment")
    finance_type = factories.bureau_type("finance")
    district_rule = RoutingRule.objects.create(
        name="顺德用工 → 金融局（测试）", priority=50, category=employment, region=district, target_type=finance_type
    )
    assert run("employment", district).rule == district_rule
    assert run("employment", city).bureau == hrss, "a district rule does not apply to the rest of the city"
    keyword_rule = RoutingRule.objects.create(
        name="贷款关键词", priority=50, category=employment, keywords="贷款，担保", target_type=finance_type
    )
    # Same priority: the district rule (more specific) is tried first.
    assert run("employment", district).rule == district_rule
    loan_text = ("招工需要贷款", "扩大招工需要担保贷款。")
    assert run("employment", city, text=loan_text).rule == keyword_rule
    assert run("employment", city).rule != keyword_rule
    urgent_rule = RoutingRule.objects.create(
        name="紧急用工", priority=10, category=employment, urgency="urgent", target_type=finance_type
    )
    assert run("employment", city, urgency="urgent").rule == urgent_rule
    assert run("employment", city, urgency="normal").rule != urgent_rule
    urgent_rule.is_active = False
    urgent_rule.save()
    assert run("employment", city, urgency="urgent").rule != urgent_rule


@pytest.mark.django_db
def test_no_bureau_in_the_region_goes_to_triage_with_a_reason(city):
    decision = run("employment", city)
    assert decision.goes_to_triage
    assert decision.explanation["reason"] == "no_rule"


@pytest.mark.django_db
def test_policy_questions_go_to_the_dispatch_centre_triage(city, dispatch_centre, hrss):
    decision = run("policy", city, text=("专精特新申报条件", "想了解专精特新企业认定标准和申报时间。"))
    assert decision.goes_to_triage


@pytest.mark.django_db
def test_other_with_a_clear_text_is_routed_by_the_classifier_without_a_dispute(city, hrss):
    decision = run("other", city)
    assert decision.bureau == hrss
    assert decision.suggested_category.code == "employment"
    assert decision.confidence >= 0.7
    assert decision.explanation["basis"] == "classifier"
    assert decision.explanation["routed_category"] == "employment"
    assert not decision.disputed


@pytest.mark.django_db
def test_other_with_an_unclear_text_goes_to_triage_with_the_suggestion(city, hrss, settings):
    settings.ROUTING = {**settings.ROUTING, "AUTO_ROUTE_CONFIDENCE": 0.999999}
    decision = run("other", city, text=VAGUE)
    assert decision.goes_to_triage
    assert decision.explanation["reason"] == "category_other_low_confidence"
    assert decision.explanation["classifier"]["top3"], "the suggestion is shown to the dispatcher"


@pytest.mark.django_db
def test_a_clearly_contradicted_category_is_flagged_and_routed_to_the_suggested_bureau(city, hrss, finance):
    bureau = factories.BureauFactory(region=city, bureau_type=factories.bureau_type("development"))
    decision = run("financing", city, text=ELECTRICITY)
    assert decision.disputed
    assert decision.suggested_category.code == "utilities"
    assert decision.bureau == bureau
    assert decision.explanation["chosen_category"] == "financing"
    assert decision.explanation["basis"] == "classifier_contradiction"


@pytest.mark.django_db
def test_a_contradiction_below_the_auto_route_confidence_goes_to_triage(city, hrss, finance, settings):
    settings.ROUTING = {**settings.ROUTING, "CONTRADICTION_AUTO_ROUTE_CONFIDENCE": 1.01}
    factories.BureauFactory(region=city, bureau_type=factories.bureau_type("development"))
    decision = run("financing", city, text=ELECTRICITY)
    assert decision.disputed and decision.goes_to_triage
    assert decision.explanation["reason"] == "disputed_low_confidence"


@pytest.mark.django_db
def test_the_appellants_category_wins_when_both_land_on_the_same_bureau_type(city, hrss):
    text = ("社保缓缴申请", "公司现金流紧张，想申请阶段性缓缴养老、失业和工伤保险单位缴费部分，以及社保费减免。")
    decision = run("employment", city, text=text)  # employment and social insurance are both hrss
    assert decision.bureau == hrss
    assert decision.disputed
    assert decision.explanation["basis"] == "appellant_same_bureau_type"


@pytest.mark.django_db
def test_the_appellants_category_wins_when_the_text_does_not_clearly_contradict_it(city, finance):
    text = ("贷款问题", "企业资金紧张，希望银行支持，贷款到期还款有压力，也想申请新的融资。")
    for chosen in ("financing", "loan_deferral"):
        decision = run(chosen, city, text=text)
        assert decision.bureau == finance
        assert not decision.disputed


@pytest.mark.django_db
def test_a_broken_classifier_never_stops_routing(city, hrss, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("model file corrupt")

    monkeypatch.setattr("routing.decisions.classify", broken)
    decision = run("employment", city)
    assert decision.bureau == hrss
    assert "classifier" not in decision.explanation
    assert run("other", city).goes_to_triage


@pytest.mark.django_db
def test_the_decision_is_stored_on_the_appeal(city, hrss, finance):
    factories.BureauFactory(region=city, bureau_type=factories.bureau_type("development"))
    appeal = factories.submit(
        region=city, category=factories.category("financing"), title=ELECTRICITY[0], description=ELECTRICITY[1]
    ).appeal
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.category.code == "financing", "the appellant's choice stays recorded"
    assert appeal.category_disputed
    assert appeal.suggested_category.code == "utilities"
    assert appeal.classifier_version.startswith("lr-")
    assert appeal.routing_explanation["classifier"]["version"] == appeal.classifier_version
    assert appeal.bureau.bureau_type.code == "development"


@pytest.mark.django_db
def test_route_preview_prints_one_line_per_input_and_saves_nothing(city, hrss, tmp_path):
    factories.BureauFactory(region=city, bureau_type=factories.bureau_type("development"))
    rows = [
        {"id": "a", "title": HIRING[0], "description": HIRING[1], "region": "foshan", "category": "employment"},
        {"id": "b", "title": ELECTRICITY[0], "description": ELECTRICITY[1], "region": "佛山市"},
        {"id": "c", "title": "x", "description": "y", "region": "atlantis"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n", encoding="utf-8")
    counts = (Appeal.objects.count(), Bureau.objects.count())
    out = StringIO()
    call_command("route_preview", str(path), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("id") for line in lines] == ["a", "b", "c", None]
    assert lines[0]["category"] == "employment" and lines[0]["bureau"] == hrss.name
    assert lines[0]["rule"] and 0 < lines[0]["confidence"] <= 1
    assert set(lines[0]) >= {"id", "category", "confidence", "bureau", "rule"}
    assert lines[1]["category"] == "utilities" and lines[1]["chosen_category"] == "other"
    # An unknown region no longer stops the line: it is classified and triaged with the reason.
    assert lines[2]["reason"] == lines[2]["triage_reason"] == "region_unknown" and lines[2]["bureau"] is None
    assert lines[2]["region_input"] == "atlantis" and lines[2]["confidence"] is not None
    assert lines[3]["error"] == "not valid JSON"
    assert (Appeal.objects.count(), Bureau.objects.count()) == counts


@pytest.mark.django_db
def test_a_one_sentence_text_is_too_little_evidence_to_overrule_the_appellant(city, hrss, finance):
    decision = run("financing", city, text=("招工困难", "春节后工人返岗率低，希望协助招聘。"))
    assert decision.bureau == finance
    assert not decision.disputed
    assert decision.explanation["classifier"]["category"] == "employment", "the suggestion is still recorded"
    assert decision.explanation["classifier"]["features"] < 60


@pytest.mark.django_db
def test_the_routing_table_is_reloaded_again_once_a_change_commits(django_capture_on_commit_callbacks):
    """Another process may reload between the save and the commit, reading the old rows: the
    version is bumped a second time on commit so that it reloads once more."""
    category = factories.category("employment")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        category.example = "换了新的例子"
        category.save()
        reloaded_before_commit = routing_table()
    assert callbacks, "no bump registered for the commit"
    assert routing_table() is reloaded_before_commit
    for callback in callbacks:
        callback()
    after_commit = routing_table()
    assert after_commit is not reloaded_before_commit
    assert after_commit.generation > reloaded_before_commit.generation
    assert after_commit.categories["employment"].example == "换了新的例子"
