"""manage.py seed_demo: the organisation, logins, appeals in every state with valid audit chains."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from appeals import demo
from appeals.audit import verify_chain
from appeals.demo import plan
from appeals.models import Appeal, AppealEvent, AppealState, Enterprise, Rating
from appeals.validators import validate_credit_code
from notifications.models import OutboxEvent
from routing.models import Bureau, StaffProfile

ALL_STATES = {state.value for state in AppealState}


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _assert_all_chains_valid() -> int:
    checked = 0
    for appeal_id in Appeal.objects.values_list("pk", flat=True):
        events = list(AppealEvent.objects.filter(appeal_id=appeal_id).order_by("seq"))
        assert events, f"appeal {appeal_id} has no events"
        assert verify_chain(events) == []
        # The chain ends where the appeal is.
        last = next(e.to_state for e in reversed(events) if e.to_state)
        assert Appeal.objects.get(pk=appeal_id).state == last
        checked += 1
    return checked


@pytest.mark.slow
@pytest.mark.django_db
def test_service_path_seed():
    """One 60-appeal seed through the services (slow-ish), checked from several angles."""
    seeded = _seed("--appeals", "60", "--seed", "7")

    def check_every_state_and_valid_chains(seeded):
        states = set(Appeal.objects.values_list("state", flat=True))
        assert states == ALL_STATES
        assert _assert_all_chains_valid() == Appeal.objects.count() >= 60
        call_command("verify_audit", stdout=io.StringIO())  # raises CommandError on any problem

    def check_three_cities_with_review_and_automatic_assignment(seeded):
        cities = {b.region.code for b in Bureau.objects.select_related("region")}
        assert set(demo.DEFAULT_CITIES) <= cities
        for code in demo.DEFAULT_CITIES:
            assert Bureau.objects.filter(region__code=code, requires_review=True).count() == 1
        assert Bureau.objects.exclude(assignment_mode="pool").count() >= 3

    def check_a_login_per_role_with_the_demo_password(seeded):
        for username in ("dispatcher", "supervisor", "manager", "admin", "officer_foshan_hrss", "lead_shenzhen_tax"):
            user = get_user_model().objects.get(username=username)
            assert user.is_active and user.staff_profile.display_name
        # Every demo user shares one password hash (hashed once), so one check covers them all.
        assert get_user_model().objects.order_by().values("password").distinct().count() == 1
        assert get_user_model().objects.get(username="officer_foshan_hrss").check_password(demo.DEMO_PASSWORD)
        assert get_user_model().objects.get(username="admin").is_superuser
        assert StaffProfile.objects.filter(role="officer").count() == 30  # 10 bureaus x 3 cities
        assert "huying-demo" in seeded and "officer_foshan_hrss" in seeded

    def check_history_is_spread_over_ten_weeks_with_overdue_appeals(seeded):
        now = timezone.now()
        oldest = Appeal.objects.order_by("submitted_at").first().submitted_at
        assert now - timedelta(weeks=10, days=1) <= oldest < now - timedelta(weeks=3)
        assert not AppealEvent.objects.filter(created_at__gt=now).exists()
        overdue = Appeal.objects.filter(state="handling", reply_due__lt=now).count()
        overdue += Appeal.objects.filter(state="dispatched", sign_for_due__lt=now).count()
        assert overdue >= 1

    def check_real_side_records(seeded):
        assert OutboxEvent.objects.filter(event_type="appeal.submitted").count() == Appeal.objects.count()
        assert Rating.objects.exists()
        assert AppealEvent.objects.filter(kind="message.contact").exists()
        assert AppealEvent.objects.filter(kind__startswith="extension_").exists()
        titles = set(Appeal.objects.values_list("title", flat=True))
        assert len(titles) > 20  # varied wording, not one template
        for code in Enterprise.objects.values_list("credit_code", flat=True):
            validate_credit_code(code)

    def check_history_is_not_delivered_and_the_dashboard_is_built(seeded):
        from analytics import rollups
        from analytics.models import AppealFact, RollupCursor
        from notifications.models import Delivery

        history = OutboxEvent.objects.all()
        assert history.exists() and not history.filter(processed_at__isnull=True).exists()
        assert all(e.payload.get("demo_history") for e in history), "labelled as never sent"
        assert not Delivery.objects.exists()
        assert AppealFact.objects.count() == Appeal.objects.count()
        assert (
            RollupCursor.objects.get(name=rollups.CURSOR).last_event_id
            == AppealEvent.objects.order_by("-pk").first().pk
        )
        assert "未发送" in seeded

    def check_if_empty_does_nothing_when_appeals_exist(seeded):
        before = Appeal.objects.count()
        out = _seed("--if-empty", "--appeals", "5")
        assert Appeal.objects.count() == before
        assert "跳过" in out

    check_every_state_and_valid_chains(seeded)
    check_three_cities_with_review_and_automatic_assignment(seeded)
    check_a_login_per_role_with_the_demo_password(seeded)
    check_history_is_spread_over_ten_weeks_with_overdue_appeals(seeded)
    check_real_side_records(seeded)
    check_history_is_not_delivered_and_the_dashboard_is_built(seeded)
    check_if_empty_does_nothing_when_appeals_exist(seeded)


@pytest.mark.django_db
def test_print_logins_only_prints(db):
    out = _seed("--print-logins")
    assert "dispatcher" in out and "huying-demo" in out and "/admin/" in out
    assert not Appeal.objects.exists()
    assert not get_user_model().objects.filter(username="dispatcher").exists()


@pytest.mark.django_db
def test_unknown_city_is_refused_with_the_list(db):
    with pytest.raises(CommandError, match="guangzhou"):
        _seed("--cities", "atlantis", "--appeals", "1")


@pytest.mark.django_db
def test_setup_is_idempotent(db):
    demo.setup_organisation(["foshan", "zhuhai", "jiangmen"])
    users = get_user_model().objects.count()
    demo.setup_organisation(["foshan", "zhuhai", "jiangmen"])
    assert get_user_model().objects.count() == users
    assert Bureau.objects.filter(region__code="zhuhai").count() == 11


@pytest.mark.slow
@pytest.mark.django_db
def test_bulk_path_every_state_valid_chains_and_ratings():
    out = _seed("--appeals", "1200", "--bulk-threshold", "100", "--batch-size", "500", "--seed", "3")
    assert "1200" in out
    assert Appeal.objects.count() == 1200
    counts = dict(Appeal.objects.values_list("state").annotate(n=Count("id")))
    assert set(counts) == ALL_STATES
    # Most history is closed.
    assert counts["closed"] > 0.6 * 1200
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # every chain valid and ending in the appeal's state
    assert "共检查 1200 件诉求" in out.getvalue()
    assert Rating.objects.filter(level__lte=2).exists()
    assert Rating.objects.filter(is_default=True).exists()
    assert Appeal.objects.filter(reopen_count__gt=0).exists()
    assert Appeal.objects.filter(state="merged", merged_into__isnull=False).count() == counts["merged"]
    # Two years of history, and new submissions still get fresh tracking numbers.
    oldest = Appeal.objects.order_by("submitted_at").first().submitted_at
    assert oldest < timezone.now() - timedelta(days=365)
    numbers = list(Appeal.objects.values_list("tracking_number", flat=True))
    assert len(numbers) == len(set(numbers))


@pytest.mark.django_db
def test_generate_bulk_api_for_benchmarks():
    end = timezone.now()
    start = end - timedelta(days=60)
    result = demo.generate_bulk(150, start=start, end=end, seed=11, batch_size=40, progress=False)
    assert result.appeals == 150 == Appeal.objects.count()
    assert result.events == AppealEvent.objects.count()
    assert result.ratings == Rating.objects.count()
    assert not Appeal.objects.filter(submitted_at__lt=start).exists()
    assert set(Appeal.objects.values_list("state", flat=True)) == ALL_STATES
    _assert_all_chains_valid()


def test_plan_reaches_each_target():
    rng = random.Random(1)
    final_action = {
        "rejected": "reject",
        "merged": "merge",
        "returned": "return",
        "review": "reply",
        "withdrawn": "withdraw",
    }
    for _ in range(200):
        for target, action in final_action.items():
            steps = plan.plan_steps(
                rng, target=target, triage=target in ("rejected", "merged"), review=True, detailed=True
            )
            assert steps[-1].action == action
            assert steps[0].action == "submit"
    closed = [plan.plan_steps(rng, target="closed", triage=False, review=False, detailed=False) for _ in range(300)]
    assert any(s.action == "rate" and s.option == "bad" for steps in closed for s in steps)
    assert any(steps[-1].action == "default_close" for steps in closed)
    assert all(steps[-1].action in ("rate", "default_close") for steps in closed)


def test_credit_codes_are_valid():
    for serial in (0, 1, 30, 31, 12345, 31**7 - 1):
        validate_credit_code(plan.credit_code("foshan", serial))


def test_category_mix_rises_and_peaks():
    end = timezone.now()
    early = plan.category_weights_at(end - timedelta(days=300), end)
    late = plan.category_weights_at(end - timedelta(days=1), end)
    assert late[plan.RISING_CATEGORY] > 2.5 * early[plan.RISING_CATEGORY]
    assert max(plan.CATEGORY_WEIGHTS, key=plan.CATEGORY_WEIGHTS.get) == "employment"
