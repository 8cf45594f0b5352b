"""Follow-up calls (回访): the selection rule, every outcome and its consequence, permissions,
the audit trail, and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import services as appeal_services
from appeals.models import AppealEvent, AppealState, PiiAccessLog, Rating, RatingLevel
from appeals.selectors.timeline import EVENT_LABELS
from followup import selection, services
from followup.models import FollowUp, FollowUpOutcome, FollowUpReason, FollowUpState
from tests import factories
from tests.followup.flows import closed, replied


def kinds(appeal):
    return [e.kind for e in AppealEvent.objects.filter(appeal=appeal).order_by("seq")]


# --- Selection ---------------------------------------------------------------------------------


def test_sample_is_stable_and_close_to_the_percentage():
    picked = [pk for pk in range(1, 20001) if selection.in_sample(pk, 10)]
    assert 0.09 < len(picked) / 20000 < 0.11
    assert picked == [pk for pk in range(1, 20001) if selection.in_sample(pk, 10)]
    assert not any(selection.in_sample(pk, 0) for pk in range(1, 500))
    assert all(selection.in_sample(pk, 100) for pk in range(1, 500))


def test_reason_rule(settings):
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 0}
    assert selection.reason_for(appeal_id=1, worst_level=1, closed_by_default=False) == FollowUpReason.BAD_RATING
    assert selection.reason_for(appeal_id=1, worst_level=2, closed_by_default=True) == FollowUpReason.BAD_RATING
    assert selection.reason_for(appeal_id=1, worst_level=3, closed_by_default=True) == FollowUpReason.DEFAULT_RATING
    assert selection.reason_for(appeal_id=1, worst_level=3, closed_by_default=False) is None
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 100}
    assert selection.reason_for(appeal_id=1, worst_level=5, closed_by_default=False) == FollowUpReason.SAMPLE
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 0, "BAD_RATING_MAX": 1}
    assert selection.reason_for(appeal_id=1, worst_level=2, closed_by_default=False) is None


def test_periodic_selection_picks_bad_default_and_sample_once(hrss, officer, no_sample, settings):
    good = closed(hrss, officer, level=RatingLevel.VERY_SATISFIED)
    default = closed(hrss, officer, default=True)
    rehandled = closed(hrss, officer, bad_first=True)
    assert selection.followup_select() == 2
    rows = {f.appeal_id: f for f in FollowUp.objects.all()}
    assert set(rows) == {default.pk, rehandled.pk}
    assert rows[default.pk].reason == FollowUpReason.DEFAULT_RATING
    assert rows[default.pk].rating.is_default
    assert rows[rehandled.pk].reason == FollowUpReason.BAD_RATING
    assert rows[rehandled.pk].round == 1
    assert rows[default.pk].due_at == rows[default.pk].closed_at + timedelta(days=settings.FOLLOW_UP["DUE_DAYS"])
    assert rows[default.pk].bureau == hrss
    # Rerunning creates nothing; a sample of 100 % then adds only the good one.
    assert selection.followup_select() == 0
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 100}
    assert selection.followup_select() == 1
    assert FollowUp.objects.get(appeal=good).reason == FollowUpReason.SAMPLE


def test_lookback_window_limits_the_periodic_job(hrss, officer, no_sample):
    closed(hrss, officer, default=True)
    assert selection.followup_select(now=timezone.now() + timedelta(days=60)) == 0
    assert selection.followup_select() == 1


def test_close_selects_at_once_after_commit(hrss, officer, no_sample, django_capture_on_commit_callbacks):
    submitted = replied(hrss, officer)
    with django_capture_on_commit_callbacks(execute=True):
        appeal_services.appeal_rate(
            appeal_id=submitted.appeal.pk,
            access_code=None,
            level=RatingLevel.BASICALLY_SATISFIED,
            resolved=None,
            is_default=True,
        )
    assert FollowUp.objects.get(appeal=submitted.appeal).reason == FollowUpReason.DEFAULT_RATING


# --- Outcomes ----------------------------------------------------------------------------------


@pytest.fixture
def followup(hrss, officer, no_sample):
    appeal = closed(hrss, officer, default=True)
    selection.followup_select()
    return FollowUp.objects.get(appeal=appeal)


def test_resolved_closes_the_followup_and_is_audited(followup, dispatcher):
    done = services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="resolved")
    assert (done.state, done.outcome, done.completed_by) == (FollowUpState.DONE, "resolved", dispatcher)
    event = AppealEvent.objects.filter(appeal_id=followup.appeal_id).order_by("-seq").first()
    assert event.kind == "followup_resolved"
    assert event.actor == dispatcher
    assert event.data["followup_id"] == followup.pk
    assert followup.appeal.__class__.objects.get(pk=followup.appeal_id).state == AppealState.CLOSED


def test_not_resolved_needs_a_reason_and_reopens_through_the_rehandle_path(followup, dispatcher):
    appeal = followup.appeal
    version = appeal.__class__.objects.get(pk=appeal.pk).version
    with pytest.raises(appeal_services.InvalidInput) as excinfo:
        services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="not_resolved", note=" ")
    assert "重新办理" in excinfo.value.message
    assert FollowUp.objects.get(pk=followup.pk).state == FollowUpState.PENDING

    services.followup_record_outcome(
        user=dispatcher, followup_id=followup.pk, outcome="not_resolved", note="补贴仍未到账，企业要求继续协调。"
    )
    fresh = appeal.__class__.objects.get(pk=appeal.pk)
    assert fresh.state == AppealState.HANDLING
    assert fresh.reopen_count == 1
    assert fresh.closed_at is None and fresh.rating_level is None
    assert fresh.reply_due > timezone.now()
    assert fresh.version == version + 1
    assert kinds(appeal)[-2:] == ["followup_not_resolved", "reopened"]
    reopened = AppealEvent.objects.filter(appeal=appeal, kind="reopened").get()
    assert (reopened.from_state, reopened.to_state) == (AppealState.CLOSED, AppealState.HANDLING)
    assert reopened.reason == "补贴仍未到账，企业要求继续协调。"
    assert reopened.data["source"] == "followup"
    from notifications.models import OutboxEvent

    assert OutboxEvent.objects.filter(event_type="appeal.reopened", appeal=appeal).exists()

    # The officer replies again; the next close is a new round and gets its own follow-up.
    officer = fresh.officer
    appeal_services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="已到账。")
    appeal_services.appeal_rate(appeal_id=appeal.pk, access_code=None, level=3, resolved=None, is_default=True)
    assert selection.followup_select() == 1
    assert FollowUp.objects.filter(appeal=appeal).count() == 2


def test_not_resolved_on_an_appeal_no_longer_closed_changes_nothing(followup, dispatcher, officer):
    # The appellant re-opened it some other way meanwhile: simulate with the follow-up transition itself.
    services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="not_resolved", note="未解决")
    second = FollowUp.objects.create(
        appeal=followup.appeal,
        round=5,
        reason=FollowUpReason.SAMPLE,
        region=followup.region,
        closed_at=timezone.now(),
        due_at=timezone.now(),
    )
    events = AppealEvent.objects.filter(appeal=followup.appeal).count()
    with pytest.raises(appeal_services.StateConflict):
        services.followup_record_outcome(user=dispatcher, followup_id=second.pk, outcome="not_resolved", note="未解决")
    assert FollowUp.objects.get(pk=second.pk).state == FollowUpState.PENDING
    assert AppealEvent.objects.filter(appeal=followup.appeal).count() == events


def test_contested_default_rating_goes_to_review_and_upheld_leaves_the_figures(followup, dispatcher):
    with pytest.raises(appeal_services.InvalidInput):
        services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="contested")
    services.followup_record_outcome(
        user=dispatcher, followup_id=followup.pk, outcome="contested", note="当时在外地没看到短信，其实不满意。"
    )
    rating = Rating.objects.get(pk=followup.rating_id)
    assert rating.contest == Rating.Contest.PENDING
    assert rating.contest_reason == "当时在外地没看到短信，其实不满意。"
    assert kinds(followup.appeal)[-1] == "followup_contested"
    from followup.selectors import contests_pending

    assert list(contests_pending()) == [rating]

    with pytest.raises(appeal_services.InvalidInput):
        services.rating_contest_decide(user=dispatcher, rating_id=rating.pk, uphold=True, reason="")
    services.rating_contest_decide(user=dispatcher, rating_id=rating.pk, uphold=True, reason="默认评价与企业意见不符")
    assert Rating.objects.get(pk=rating.pk).contest == Rating.Contest.UPHELD
    assert kinds(followup.appeal)[-1] == "rating_contest_upheld"
    assert list(contests_pending()) == []
    with pytest.raises(appeal_services.StateConflict):
        services.rating_contest_decide(user=dispatcher, rating_id=rating.pk, uphold=False, reason="再议")


def test_dismissed_contest(followup, dispatcher):
    services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="contested", note="有异议")
    services.rating_contest_decide(user=dispatcher, rating_id=followup.rating_id, uphold=False, reason="已解决")
    assert Rating.objects.get(pk=followup.rating_id).contest == Rating.Contest.DISMISSED
    assert kinds(followup.appeal)[-1] == "rating_contest_dismissed"


def test_not_reached_counts_attempts_then_closes_as_unreachable(followup, dispatcher, settings):
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "MAX_ATTEMPTS": 2}
    first = services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="not_reached")
    assert (first.state, first.attempts) == (FollowUpState.PENDING, 1)
    second = services.followup_record_outcome(
        user=dispatcher, followup_id=followup.pk, outcome="not_reached", note="关机"
    )
    assert (second.state, second.attempts, second.outcome) == (FollowUpState.UNREACHABLE, 2, "not_reached")
    assert kinds(followup.appeal)[-2:] == ["followup_not_reached", "followup_unreachable"]
    with pytest.raises(appeal_services.StateConflict):
        services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="resolved")


def test_only_dispatchers_record_outcomes(followup, officer, lead, dispatch_centre):
    supervisor = factories.staff_user("supervisor", dispatch_centre)
    for user in (officer, lead, supervisor):
        with pytest.raises(appeal_services.NotAllowed):
            services.followup_record_outcome(user=user, followup_id=followup.pk, outcome="resolved")
        with pytest.raises(appeal_services.NotAllowed):
            services.rating_contest_decide(user=user, rating_id=followup.rating_id, uphold=True, reason="x")
    assert FollowUp.objects.get(pk=followup.pk).state == FollowUpState.PENDING


def test_unknown_outcome_is_refused(followup, dispatcher):
    with pytest.raises(appeal_services.InvalidInput):
        services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="maybe")


def test_every_followup_event_has_a_label():
    for kind in (
        "followup_resolved",
        "followup_not_resolved",
        "followup_contested",
        "followup_not_reached",
        "followup_unreachable",
        "rating_contest_upheld",
        "rating_contest_dismissed",
    ):
        assert kind in EVENT_LABELS
    for outcome in FollowUpOutcome.values:
        if outcome != "not_reached":
            assert f"followup_{outcome}" in EVENT_LABELS


# --- Pages -------------------------------------------------------------------------------------


def test_worklist_sorted_by_due_date_for_dispatchers_only(
    client, followup, dispatcher, officer, django_assert_max_num_queries
):
    later = FollowUp.objects.create(
        appeal=followup.appeal,
        round=9,
        reason=FollowUpReason.SAMPLE,
        region=followup.region,
        closed_at=followup.closed_at,
        due_at=followup.due_at + timedelta(days=5),
    )
    client.force_login(officer)
    assert client.get(reverse("followup:worklist")).status_code == 403
    client.force_login(dispatcher)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("followup:worklist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f'id="followup-{followup.pk}"') < body.index(f'id="followup-{later.pk}"')
    assert "默认评价" in body


def test_case_page_shows_script_reveals_phone_with_log_and_records_outcome(client, followup, dispatcher):
    client.force_login(dispatcher)
    page = client.get(reverse("followup:case", args=[followup.pk])).content.decode()
    assert followup.appeal.tracking_number in page
    assert "系统按“基本满意”记录" in page  # the default-rating script line
    assert "138 0013 8000" not in page
    revealed = client.post(reverse("followup:reveal-phone", args=[followup.pk])).content.decode()
    assert "138" in revealed and "8000" in revealed
    assert PiiAccessLog.objects.filter(user=dispatcher, appeal=followup.appeal, action="view_phone").count() == 1

    response = client.post(reverse("followup:outcome", args=[followup.pk]), {"outcome": "not_resolved", "note": ""})
    assert response.status_code == 400
    assert "重新办理" in response.content.decode()
    response = client.post(reverse("followup:outcome", args=[followup.pk]), {"outcome": "resolved", "note": "满意"})
    assert response.status_code == 302
    assert FollowUp.objects.get(pk=followup.pk).outcome == "resolved"


def test_case_page_in_english(client, followup, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("followup:case", args=[followup.pk]), HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert "Call script" in body
    assert "Follow-up" in body


def test_contest_decision_from_the_worklist(client, followup, dispatcher):
    services.followup_record_outcome(user=dispatcher, followup_id=followup.pk, outcome="contested", note="有异议")
    client.force_login(dispatcher)
    assert "有异议" in client.get(reverse("followup:worklist")).content.decode()
    client.post(reverse("followup:decide-contest", args=[followup.rating_id]), {"decision": "uphold", "reason": ""})
    assert Rating.objects.get(pk=followup.rating_id).contest == Rating.Contest.PENDING
    client.post(reverse("followup:decide-contest", args=[followup.rating_id]), {"decision": "uphold", "reason": "成立"})
    assert Rating.objects.get(pk=followup.rating_id).contest == Rating.Contest.UPHELD
