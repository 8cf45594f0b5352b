"""Problem tickets (问题工单): each threshold, flagging on events and by the sweep, owners, resolving,
permissions, the audit trail and the board."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import services as appeal_services
from appeals.models import Appeal, AppealEvent, RatingLevel
from appeals.selectors.timeline import EVENT_LABELS
from problems import detection, selectors, services
from problems.models import ProblemState, ProblemTicket
from tests import factories
from tests.followup.flows import replied


def reopened_times(hrss, officer, times: int) -> Appeal:
    submitted = replied(hrss, officer)
    for i in range(times):
        appeal_services.appeal_rate(
            appeal_id=submitted.appeal.pk,
            access_code=submitted.access_code,
            level=RatingLevel.DISSATISFIED,
            resolved=False,
        )
        if i < times - 1:
            appeal_services.appeal_submit_reply(appeal_id=submitted.appeal.pk, user=officer, reply=f"第{i + 2}次答复")
    return Appeal.objects.get(pk=submitted.appeal.pk)


def rerouted(hrss, finance, third, dispatcher) -> Appeal:
    appeal = factories.submit(region=hrss.region).appeal
    appeal_services.appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=finance.pk, reason="属于金融局职责")
    appeal_services.appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=third.pk, reason="属于税务局职责")
    return Appeal.objects.get(pk=appeal.pk)


@pytest.fixture
def third(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))


def test_reopened_threshold(hrss, officer, settings):
    twice = reopened_times(hrss, officer, 2)
    thrice = reopened_times(hrss, officer, 3)
    assert detection.measure([twice.pk])[twice.pk].reasons() == []
    assert detection.measure([thrice.pk])[thrice.pk].reasons() == ["reopened"]
    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "REOPEN_THRESHOLD": 2}
    assert detection.measure([twice.pk])[twice.pk].reasons() == ["reopened"]


def test_bureau_threshold_counts_distinct_bureaus_in_the_path(hrss, finance, third, dispatcher, settings):
    appeal = rerouted(hrss, finance, third, dispatcher)
    m = detection.measure([appeal.pk])[appeal.pk]
    assert m.bureau_ids == [hrss.pk, finance.pk, third.pk]
    assert m.reasons() == ["bureaus"]
    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "BUREAU_THRESHOLD": 4}
    assert m.reasons() == []


def test_supervised_and_still_open(hrss, officer, settings):
    appeal = factories.submit(region=hrss.region).appeal
    Appeal.objects.filter(pk=appeal.pk).update(supervised_at=timezone.now())
    assert detection.measure([appeal.pk])[appeal.pk].reasons() == ["supervised"]
    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "FLAG_SUPERVISED": False}
    assert detection.measure([appeal.pk])[appeal.pk].reasons() == []


def test_sweep_flags_once_and_audits(hrss, finance, third, officer, dispatcher):
    many = reopened_times(hrss, officer, 3)
    moved = rerouted(hrss, finance, third, dispatcher)
    quiet = factories.submit(region=hrss.region).appeal
    run = detection.problems_sweep()
    assert (run.flagged, run.updated) == (2, 0)
    assert set(ProblemTicket.objects.values_list("appeal_id", flat=True)) == {many.pk, moved.pk}
    assert quiet.pk not in detection.candidate_ids()
    event = AppealEvent.objects.filter(appeal=many, kind="problem_flagged").get()
    assert event.data["reasons"] == ["reopened"] and event.data["reopen_count"] == 3
    assert ProblemTicket.objects.get(appeal=moved).bureau == third
    again = detection.problems_sweep()
    assert (again.flagged, again.updated, again.unchanged) == (0, 0, 2)
    assert AppealEvent.objects.filter(kind="problem_flagged").count() == 2


def test_events_flag_at_once(hrss, officer, django_capture_on_commit_callbacks):
    appeal = reopened_times(hrss, officer, 2)
    appeal_services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="第三次答复")
    code_appeal = Appeal.objects.get(pk=appeal.pk)
    assert not ProblemTicket.objects.exists()
    # The third bad rating re-opens it: the hook flags it after commit.
    from appeals import access_codes

    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=access_codes.hash_access_code(code_appeal.tracking_number, "ABCD2345")
    )
    with django_capture_on_commit_callbacks(execute=True):
        appeal_services.appeal_rate(appeal_id=appeal.pk, access_code="ABCD2345", level=1, resolved=False)
    assert ProblemTicket.objects.get(appeal=appeal).reopened


@pytest.fixture
def ticket(hrss, officer):
    appeal = reopened_times(hrss, officer, 3)
    detection.problem_check(appeal.pk)
    return ProblemTicket.objects.get(appeal=appeal)


def test_assign_owner_needs_a_supervisor_a_proper_owner_and_a_note(ticket, supervisor, lead, officer, dispatcher):
    for user in (officer, lead, dispatcher):
        with pytest.raises(appeal_services.NotAllowed):
            services.problem_assign_owner(user=user, ticket_id=ticket.pk, owner_id=lead.pk, note="协调")
    with pytest.raises(appeal_services.InvalidInput):
        services.problem_assign_owner(user=supervisor, ticket_id=ticket.pk, owner_id=officer.pk, note="协调")
    with pytest.raises(appeal_services.InvalidInput):
        services.problem_assign_owner(user=supervisor, ticket_id=ticket.pk, owner_id=lead.pk, note="  ")
    assert ProblemTicket.objects.get(pk=ticket.pk).owner is None
    services.problem_assign_owner(user=supervisor, ticket_id=ticket.pk, owner_id=lead.pk, note="请牵头协调人社和财政")
    fresh = ProblemTicket.objects.get(pk=ticket.pk)
    assert (fresh.owner, fresh.owner_note) == (lead, "请牵头协调人社和财政")
    event = AppealEvent.objects.filter(appeal_id=ticket.appeal_id).order_by("-seq").first()
    assert (event.kind, event.actor, event.reason, event.data["owner_id"]) == (
        "problem_owner_assigned",
        supervisor,
        "请牵头协调人社和财政",
        lead.pk,
    )


def test_resolve_needs_a_reason_and_reflags_only_when_worse(ticket, supervisor, hrss, officer):
    with pytest.raises(appeal_services.InvalidInput):
        services.problem_resolve(user=supervisor, ticket_id=ticket.pk, reason="")
    services.problem_resolve(user=supervisor, ticket_id=ticket.pk, reason="已召开协调会，明确由人社局办理")
    fresh = ProblemTicket.objects.get(pk=ticket.pk)
    assert fresh.state == ProblemState.RESOLVED and fresh.resolved_by == supervisor
    assert AppealEvent.objects.filter(appeal_id=ticket.appeal_id).order_by("-seq").first().kind == "problem_resolved"
    with pytest.raises(appeal_services.StateConflict):
        services.problem_resolve(user=supervisor, ticket_id=ticket.pk, reason="再次")
    assert detection.problem_check(ticket.appeal_id) == "unchanged"
    # A fourth re-opening flags it again.
    Appeal.objects.filter(pk=ticket.appeal_id).update(reopen_count=4)
    assert detection.problem_check(ticket.appeal_id) == "updated"
    assert ProblemTicket.objects.get(pk=ticket.pk).state == ProblemState.FLAGGED
    assert AppealEvent.objects.filter(appeal_id=ticket.appeal_id).order_by("-seq").first().kind == "problem_reflagged"


def test_every_problem_event_has_a_label():
    for kind in ("problem_flagged", "problem_reflagged", "problem_owner_assigned", "problem_resolved"):
        assert kind in EVENT_LABELS


def test_counts(ticket, supervisor):
    today = timezone.localdate()
    counts = selectors.problem_counts(start=today, end=today)
    assert (counts.flagged, counts.open, counts.with_owner, counts.reopened, counts.bureaus) == (1, 1, 0, 1, 0)
    services.problem_assign_owner(user=supervisor, ticket_id=ticket.pk, owner_id=supervisor.pk, note="我来协调")
    assert selectors.problem_counts(start=today, end=today).with_owner == 1
    services.problem_resolve(user=supervisor, ticket_id=ticket.pk, reason="已解决")
    counts = selectors.problem_counts(start=today, end=today)
    assert (counts.open, counts.resolved) == (0, 1)


def test_board_shows_the_path_and_lets_supervisors_assign(
    client, ticket, supervisor, lead, dispatcher, officer, django_assert_max_num_queries
):
    client.force_login(officer)
    assert client.get(reverse("problems:board")).status_code == 403
    client.force_login(dispatcher)
    body = client.get(reverse("problems:board")).content.decode()
    assert ticket.appeal.tracking_number in body and "指派协调负责人" not in body
    client.force_login(supervisor)
    with django_assert_max_num_queries(20):
        body = client.get(reverse("problems:board")).content.decode()
    assert "多次重办" in body
    assert body.count("<strong>重办</strong>") == 3  # every re-opening on the path
    assert "指派协调负责人" in body
    client.post(reverse("problems:assign-owner", args=[ticket.pk]), {"owner": str(lead.pk), "note": ""})
    assert ProblemTicket.objects.get(pk=ticket.pk).owner is None
    client.post(reverse("problems:assign-owner", args=[ticket.pk]), {"owner": str(lead.pk), "note": "牵头协调"})
    assert ProblemTicket.objects.get(pk=ticket.pk).owner == lead
    client.post(reverse("problems:resolve", args=[ticket.pk]), {"reason": "已协调"})
    assert ProblemTicket.objects.get(pk=ticket.pk).state == ProblemState.RESOLVED


def test_the_appointed_owner_is_notified_with_the_note(ticket, supervisor, lead):
    from notifications import recipients
    from notifications.models import OutboxEvent

    services.problem_assign_owner(user=supervisor, ticket_id=ticket.pk, owner_id=lead.pk, note="请牵头协调人社和财政")
    event = OutboxEvent.objects.get(appeal_id=ticket.appeal_id, event_type="problem.owner_assigned")
    assert event.payload["note"] == "请牵头协调人社和财政"
    resolved = recipients.resolve(event)
    assert resolved and {r.user_id for r in resolved} == {lead.pk}
