"""Appeal types (诉求类型): the suggester, deadline policies by type, and routing by type."""

from __future__ import annotations

import json
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from routing import deadlines
from routing.appeal_types import AppealType, labelled_examples, measure_accuracy, resolve_type, suggest_type
from routing.decisions import TRIAGE_REASONS, decide
from routing.models import DeadlinePolicy, RoutingRule
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
HIRING = ("春节后招不到普工", "工厂年后只回来一半工人，急需招聘普工和技工，希望人社部门帮忙对接劳务输出地和招聘会。")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# --- The suggester ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        ("请问稳岗返还怎么申请", "想了解需要哪些材料。", "enquiry"),
        ("订单交不了", "请人社部门帮忙协调招工。", "help"),
        ("关于延长贴息期限的建议", "建议把贴息期限延长到三年。", "suggestion"),
        ("窗口人员态度恶劣", "办事人员推诿，这是不作为。", "complaint"),
        ("有工厂夜间偷排废水", "请环保部门依法查处。", "report"),
        # Traditional characters and full-width punctuation read the same.
        ("請問稅務登記如何辦理？", "", "enquiry"),
        # No cue at all: a request for help, the default.
        ("情况说明", "具体情况电话里说。", "help"),
    ],
)
def test_the_suggestion_reads_the_types_cue_words(title, description, expected):
    assert suggest_type(title, description).appeal_type == expected


def test_a_report_that_also_asks_is_a_report_and_the_cues_are_kept():
    suggestion = suggest_type("举报：黑作坊", "请问找哪个部门举报无证经营？")
    assert suggestion.appeal_type == "report"
    assert "举报" in suggestion.cues and suggestion.scores["report"] > suggestion.scores["enquiry"]


def test_accuracy_on_the_hand_labelled_set_is_measured_and_kept():
    """Fifteen hand-written appeals per type (some without the type's own word); measured 0.84."""
    rows = labelled_examples()
    assert len(rows) >= 70 and {label for *_t, label in rows} == set(AppealType.values)
    result = measure_accuracy(rows)
    assert result["accuracy"] >= 0.8
    assert min(result["recall_per_type"].values()) >= 0.6


def test_resolve_keeps_a_known_choice_and_suggests_otherwise():
    assert resolve_type("complaint", title="请问", description="") == resolve_type(
        "complaint", title="x", description="y"
    )
    chosen = resolve_type("complaint", title="请问怎么办理", description="")
    assert (chosen.appeal_type, chosen.suggested, chosen.unknown_input) == ("complaint", False, "")
    missing = resolve_type("", title="请问怎么办理", description="")
    assert (missing.appeal_type, missing.suggested, missing.unknown_input) == ("enquiry", True, "")
    unknown = resolve_type("grievance", title="请问怎么办理", description="")
    assert (unknown.appeal_type, unknown.suggested, unknown.unknown_input) == ("enquiry", True, "grievance")


# --- Deadline policies by type -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_seeds_reply_limits_by_type_from_guangdong_12345():
    seeded = {
        p.appeal_type: (p.reply_value, p.reply_unit, p.urgency)
        for p in DeadlinePolicy.objects.filter(category__isnull=True).exclude(appeal_type="")
    }
    assert seeded == {
        "enquiry": (2, "working_days", "normal"),
        "help": (10, "working_days", "normal"),
        "suggestion": (10, "working_days", "normal"),
        "complaint": (15, "working_days", "normal"),
        "report": (15, "working_days", "normal"),
    }
    assert all("12345" in p.note for p in DeadlinePolicy.objects.exclude(appeal_type=""))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("appeal_type", "due"),
    [
        # Signed for on Tuesday 29 September 2026; National Day runs 1–7 October, with make-up
        # working days on Sunday 20 September and Saturday 10 October.
        ("enquiry", "2026-10-08T10:00"),  # 30 Sep, 8 Oct
        ("help", "2026-10-19T10:00"),  # 30 Sep, 8, 9, 10 (Sat), 12–16, 19 Oct
        ("suggestion", "2026-10-19T10:00"),
        ("complaint", "2026-10-26T10:00"),  # … 20, 21, 22, 23, 26 Oct
        ("report", "2026-10-26T10:00"),
        ("", "2026-10-12T10:00"),  # no type: the ordinary catch-all, 5 working days
    ],
)
def test_reply_deadline_by_type_counts_working_days_across_national_day(appeal_type, due):
    start = at("2026-09-29T10:00")
    assert deadlines.sign_for_deadlines(at=start, urgent=False, appeal_type=appeal_type)["reply_due"] == at(due)


@pytest.mark.django_db
def test_urgent_appeals_keep_the_urgent_limits_whatever_their_type():
    start = at("2026-03-03T10:00")
    for code in AppealType.values:
        assert deadlines.sign_for_deadlines(at=start, urgent=True, appeal_type=code)["reply_due"] == at(
            "2026-03-05T10:00"
        )


@pytest.mark.django_db
def test_a_category_policy_overrides_the_type_and_category_plus_type_is_most_specific():
    tax = factories.category("tax")
    start = at("2026-03-03T10:00")  # a Tuesday
    DeadlinePolicy.objects.create(category=tax, urgency="", reply_value=7, reply_unit="working_days")
    # Category beats type: a tax enquiry gets the tax policy's 7 days, not the enquiry's 2.
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=tax, appeal_type="enquiry")["reply_due"] == at(
        "2026-03-12T10:00"
    )
    # Another category still follows its type.
    rent = factories.category("rent")
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=rent, appeal_type="enquiry")[
        "reply_due"
    ] == at("2026-03-05T10:00")
    # Category + type beats category alone.
    DeadlinePolicy.objects.create(category=tax, appeal_type="complaint", reply_value=20, reply_unit="working_days")
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=tax, appeal_type="complaint")[
        "reply_due"
    ] == at("2026-03-31T10:00")
    limits = deadlines.policy_for(category=tax, appeal_type="complaint")
    assert limits.reply == (20, "working_days")
    # An unknown type matches only policies without a type.
    assert deadlines.policy_for(category=rent, appeal_type="grievance").reply == (5, "working_days")


@pytest.mark.django_db
def test_specificity_order_is_category_then_type_then_urgency():
    order = sorted(
        [
            DeadlinePolicy(category_id=None, appeal_type="", urgency=""),
            DeadlinePolicy(category_id=None, appeal_type="", urgency="normal"),
            DeadlinePolicy(category_id=None, appeal_type="help", urgency=""),
            DeadlinePolicy(category_id=None, appeal_type="help", urgency="normal"),
            DeadlinePolicy(category_id=1, appeal_type="", urgency=""),
            DeadlinePolicy(category_id=1, appeal_type="", urgency="normal"),
            DeadlinePolicy(category_id=1, appeal_type="help", urgency=""),
            DeadlinePolicy(category_id=1, appeal_type="help", urgency="normal"),
        ],
        key=deadlines.policy_specificity,
    )
    assert [(bool(p.category_id), bool(p.appeal_type), bool(p.urgency)) for p in order] == [
        (False, False, False),
        (False, False, True),
        (False, True, False),
        (False, True, True),
        (True, False, False),
        (True, False, True),
        (True, True, False),
        (True, True, True),
    ]


@pytest.mark.django_db
def test_one_policy_per_category_urgency_and_type():
    tax = factories.category("tax")
    DeadlinePolicy.objects.create(category=tax, urgency="normal", appeal_type="help")
    DeadlinePolicy.objects.create(category=tax, urgency="normal", appeal_type="report")  # another type: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlinePolicy.objects.create(category=tax, urgency="normal", appeal_type="help")


# --- Routing by type -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rule_may_match_on_type_and_the_explanation_names_the_type(city, hrss, finance):
    RoutingRule.objects.create(
        name="招工投诉转金融局（测试）",
        priority=1,
        category=factories.category("employment"),
        appeal_type="complaint",
        target_type=finance.bureau_type,
    )
    common = {"category": factories.category("employment"), "region": city, "urgency": "normal"}
    complaint = decide(**common, title=HIRING[0], description=HIRING[1], appeal_type="complaint")
    assert complaint.bureau == finance and complaint.rule is not None
    assert complaint.explanation["appeal_type"] == "complaint"
    assert complaint.explanation["appeal_type_basis"] == "appellant"
    help_ = decide(**common, title=HIRING[0], description=HIRING[1], appeal_type="help")
    assert help_.bureau == hrss
    # Without a type the suggestion is used (and said so); it is not a complaint here.
    suggested = decide(**common, title=HIRING[0], description=HIRING[1])
    assert suggested.appeal_type == "help" and suggested.appeal_type_suggested
    assert suggested.explanation["appeal_type_basis"] == "suggested" and suggested.bureau == hrss


@pytest.mark.django_db
def test_an_unknown_type_never_stops_routing_it_is_triaged_with_a_reason(city, hrss):
    decision = decide(
        category=factories.category("employment"),
        region=city,
        title=HIRING[0],
        description=HIRING[1],
        urgency="normal",
        appeal_type="grievance",
    )
    assert decision.goes_to_triage and decision.explanation["reason"] == "appeal_type_unknown"
    assert "appeal_type_unknown" in TRIAGE_REASONS
    assert decision.explanation["appeal_type_input"] == "grievance"
    # The classifier still answered and the appeal still has a type.
    assert "classifier" in decision.explanation and decision.appeal_type == "help"


@pytest.mark.django_db
def test_route_preview_takes_a_type_by_code_or_name(city, hrss, tmp_path):
    rows = [
        {"id": "a", "title": HIRING[0], "description": HIRING[1], "region": "foshan", "category": "employment"},
        {"id": "b", "title": HIRING[0], "description": HIRING[1], "region": "foshan", "type": "投诉"},
        {"id": "c", "title": HIRING[0], "description": HIRING[1], "region": "foshan", "type": "grievance"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = StringIO()
    call_command("route_preview", str(path), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (lines[0]["appeal_type"], lines[0]["appeal_type_basis"]) == ("help", "suggested")
    assert (lines[1]["appeal_type"], lines[1]["appeal_type_basis"]) == ("complaint", "appellant")
    assert lines[2]["triage_reason"] == "appeal_type_unknown" and lines[2]["appeal_type_input"] == "grievance"
