"""Re-routing, the paused clock, co-handling, merged appeals and duplicate suggestions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import selectors, services
from appeals.models import AppealEvent, AppealMessage, CoHandling
from appeals.selectors import appeal_get_for_user
from appeals.services import InvalidInput, NotAllowed, StateConflict
from notifications.models import OutboxEvent
from routing.models import TrainingExample
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def handling(city, hrss, officer):
    appeal = factories.submit(region=city).appeal
    return services.appeal_sign_for(appeal_id=appeal.pk, user=officer)


# --- Re-routing -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatcher_reroutes_a_dispatched_appeal_and_the_example_is_kept(city, hrss, finance, dispatcher, officer):
    appeal = factories.submit(region=city).appeal
    with pytest.raises(NotAllowed):
        services.appeal_reroute(appeal_id=appeal.pk, user=officer, bureau_id=finance.pk, reason="x")
    with pytest.raises(InvalidInput):
        services.appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=finance.pk, reason=" ")
    with pytest.raises(InvalidInput):
        services.appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=hrss.pk, reason="同一单位")
    later = appeal.dispatched_at + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        moved = services.appeal_reroute(
            appeal_id=appeal.pk,
            user=dispatcher,
            bureau_id=finance.pk,
            reason="涉及贷款贴息，属金融局职责",
            category_id=factories.category("financing").pk,
        )
    assert moved.bureau == finance and moved.officer is None and moved.state == "dispatched"
    assert moved.category.code == "employment", "the appellant's category is not changed"
    assert moved.dispatched_at == later and moved.sign_for_due > later
    event = AppealEvent.objects.filter(appeal=appeal).last()
    assert event.kind == "rerouted" and event.data["from_bureau_id"] == hrss.pk and event.data["manual"]
    assert OutboxEvent.objects.filter(appeal=appeal, event_type="appeal.dispatched", bureau=finance).exists()
    example = TrainingExample.objects.get(appeal_id=appeal.pk)
    assert example.category.code == "financing" and example.source_event_id == event.pk
    # A signed-for appeal is not re-routed directly (the bureau returns it instead).
    services.appeal_sign_for(appeal_id=appeal.pk, user=factories.staff_user("officer", finance))
    with pytest.raises(StateConflict):
        services.appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=hrss.pk, reason="再改")


# --- The paused clock --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_asking_the_appellant_pauses_the_clock_and_their_answer_moves_the_deadline(city, hrss, officer):
    with time_machine.travel(at("2026-02-12T10:00"), tick=False):
        result = factories.submit(region=city)
        appeal = services.appeal_sign_for(appeal_id=result.appeal.pk, user=officer)
    # 5 working days from Thu 12 Feb: 13, 14 (make-up Saturday), 24, 25, 26 Feb.
    assert appeal.reply_due == at("2026-02-26T10:00")
    with time_machine.travel(at("2026-02-13T10:00"), tick=False):
        services.appeal_request_information(appeal_id=appeal.pk, user=officer, question="请提供劳动合同复印件")
    appeal.refresh_from_db()
    assert appeal.paused_at == at("2026-02-13T10:00")
    assert AppealMessage.objects.filter(appeal=appeal, kind="info_request").count() == 1
    assert OutboxEvent.objects.filter(appeal=appeal, event_type="message.info_request").exists()
    with pytest.raises(StateConflict):
        services.appeal_request_information(appeal_id=appeal.pk, user=officer, question="再问一次")
    # The appellant answers on 24 Feb 10:00: waited 13 Feb 10:00–24:00 (14 h), 14 Feb (24 h,
    # make-up working day), 24 Feb 00:00–10:00 (10 h) = 48 working-day hours; the holiday is free.
    with time_machine.travel(at("2026-02-24T10:00"), tick=False):
        services.appeal_provide_information(appeal_id=appeal.pk, access_code=result.access_code, body="已上传合同")
    appeal.refresh_from_db()
    assert appeal.paused_at is None
    assert appeal.reply_due == at("2026-02-28T10:00")  # 26 Feb 10:00 + 48 h of working days
    resumed = AppealEvent.objects.get(appeal=appeal, kind="clock_resumed")
    assert resumed.data["paused_seconds"] == 48 * 3600
    assert resumed.actor_kind == "appellant"


@pytest.mark.django_db
def test_the_console_message_service_pauses_and_staff_can_resume(handling, officer, lead):
    services.appeal_add_message(appeal_id=handling.pk, kind="info_request", body="请补充营业执照", actor=officer)
    handling.refresh_from_db()
    assert handling.paused_at is not None
    due = handling.reply_due
    with time_machine.travel(handling.paused_at + timedelta(days=1), tick=False):
        appeal = services.appeal_resume_clock(appeal_id=handling.pk, user=lead)
    assert appeal.paused_at is None and appeal.reply_due > due
    with pytest.raises(StateConflict):
        services.appeal_resume_clock(appeal_id=handling.pk, user=lead)


@pytest.mark.django_db
def test_a_paused_appeal_is_not_swept(handling, officer):
    from appeals.services import run_sweep

    services.appeal_add_message(appeal_id=handling.pk, kind="info_request", body="请补充", actor=officer)
    with time_machine.travel(handling.reply_due + timedelta(days=30), tick=False):
        assert sum(run_sweep().values()) == 0


# --- Co-handling ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_co_handling_invite_submit_and_visibility(city, handling, officer, finance):
    finance_officer = factories.staff_user("officer", finance)
    tax_bureau = factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))
    tax_officer = factories.staff_user("officer", tax_bureau)
    assert appeal_get_for_user(user=finance_officer, appeal_id=handling.pk) is None
    with pytest.raises(NotAllowed):
        services.cohandling_invite(appeal_id=handling.pk, user=finance_officer, bureau_id=finance.pk, request="x")
    with pytest.raises(InvalidInput):
        services.cohandling_invite(appeal_id=handling.pk, user=officer, bureau_id=handling.bureau_id, request="x")
    co = services.cohandling_invite(
        appeal_id=handling.pk, user=officer, bureau_id=finance.pk, request="请核实贷款贴息资格"
    )
    co_tax = services.cohandling_invite(
        appeal_id=handling.pk, user=officer, bureau_id=tax_bureau.pk, request="核实纳税"
    )
    with pytest.raises(StateConflict):
        services.cohandling_invite(appeal_id=handling.pk, user=officer, bureau_id=finance.pk, request="再邀请")
    assert co.due_at > co.created_at
    assert OutboxEvent.objects.filter(event_type="cohandling.invited", bureau=finance).exists()
    # The co-handler now sees the appeal and its own request, not the other bureau's.
    assert appeal_get_for_user(user=finance_officer, appeal_id=handling.pk) is not None
    assert list(selectors.cohandlings_for_appeal(user=finance_officer, appeal=handling)) == [co]
    assert list(selectors.cohandling_inbox(user=finance_officer)) == [co]
    with pytest.raises(NotAllowed):
        services.cohandling_submit(cohandling_id=co.pk, user=tax_officer, response="越权")
    services.cohandling_submit(cohandling_id=co.pk, user=finance_officer, response="符合贴息条件，可于下月申报")
    with pytest.raises(StateConflict):
        services.cohandling_submit(cohandling_id=co.pk, user=finance_officer, response="再交一次")
    services.cohandling_decline(cohandling_id=co_tax.pk, user=tax_officer, reason="不涉及税务")
    # The lead bureau sees both answers, and the part is in its timeline as an internal message.
    seen = {c.bureau_id: c for c in selectors.cohandlings_for_appeal(user=officer, appeal=handling)}
    assert seen[finance.pk].status == CoHandling.Status.SUBMITTED
    assert seen[tax_bureau.pk].status == CoHandling.Status.DECLINED
    assert AppealMessage.objects.filter(appeal=handling, kind="co_handling", author=finance_officer).exists()
    assert OutboxEvent.objects.filter(appeal=handling, event_type="cohandling.submitted").exists()
    kinds = list(AppealEvent.objects.filter(appeal=handling).values_list("kind", flat=True))
    assert {"cohandling_invited", "cohandling_submitted", "cohandling_declined"} <= set(kinds)


# --- Merged appeals follow their master ----------------------------------------------------------------


@pytest.mark.django_db
def test_merged_appeals_are_told_once_when_the_master_is_replied_and_closed(city, hrss, officer, dispatcher, settings):
    settings.ROUTING = {**settings.ROUTING, "AUTO_ROUTE_CONFIDENCE": 1.01}
    submitted = factories.submit(region=city)
    master = submitted.appeal
    duplicate = factories.submit(region=city, category=factories.category("other")).appeal
    services.appeal_merge(appeal_id=duplicate.pk, user=dispatcher, master_id=master.pk)
    assert services.notify_merged_followers() == 0, "nothing until the master has an outcome"
    services.appeal_sign_for(appeal_id=master.pk, user=officer)
    services.appeal_submit_reply(appeal_id=master.pk, user=officer, reply="已协调招聘会")
    assert services.notify_merged_followers() == 1
    assert services.notify_merged_followers() == 0, "once per outcome"
    event = OutboxEvent.objects.get(appeal=duplicate, event_type="appeal.master_outcome")
    assert event.payload["outcome"] == "replied" and event.payload["master_tracking_number"] == master.tracking_number
    services.appeal_rate(appeal_id=master.pk, access_code=submitted.access_code, level=5, resolved=True)
    from appeals.tasks import deadline_sweep

    assert deadline_sweep()["appeal.master_outcome"] == 1
    assert deadline_sweep()["appeal.master_outcome"] == 0
    outcomes = OutboxEvent.objects.filter(appeal=duplicate, event_type="appeal.master_outcome")
    assert sorted(e.payload["outcome"] for e in outcomes) == ["closed", "replied"]
    assert AppealEvent.objects.filter(appeal=duplicate, kind="master_outcome").count() == 2


@pytest.mark.django_db
def test_duplicate_suggestions_same_enterprise_similar_text_within_the_window(city, hrss, dispatcher, officer):
    first = factories.submit(region=city, credit_code="91350200776049653A").appeal
    same = factories.submit(
        region=city, credit_code="91350200776049653A", title="还是招工困难", description=first.description
    ).appeal
    factories.submit(region=city, credit_code="91350200776049653A", title="房租", description="房东要涨房租三成")
    factories.submit(region=city, title=first.title, description=first.description)  # another enterprise
    found = selectors.duplicate_candidates(user=dispatcher, appeal=same)
    assert [c.appeal for c in found] == [first]
    assert 0.35 <= found[0].similarity <= 1
    with time_machine.travel(first.submitted_at + timedelta(days=40), tick=False):
        late = factories.submit(region=city, credit_code="91350200776049653A", description=first.description).appeal
    assert selectors.duplicate_candidates(user=dispatcher, appeal=late) == []
    # Staff of another bureau see no candidates they could not open.
    stranger = factories.staff_user(
        "officer", factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))
    )
    assert selectors.duplicate_candidates(user=stranger, appeal=same) == []


@pytest.mark.django_db
def test_extension_limits_come_from_the_deadline_policy(handling, officer, dispatcher):
    from routing.models import DeadlinePolicy

    DeadlinePolicy.objects.create(
        category=handling.category, urgency="", max_extensions=1, max_extension_working_days=2
    )
    with pytest.raises(InvalidInput) as too_long:
        services.extension_request(appeal_id=handling.pk, user=officer, reason="现场核查", working_days=3)
    assert "2" in too_long.value.message
    extension = services.extension_request(appeal_id=handling.pk, user=officer, reason="现场核查", working_days=2)
    services.extension_decide(extension_id=extension.pk, user=dispatcher, approve=True)
    with pytest.raises(StateConflict):
        services.extension_request(appeal_id=handling.pk, user=officer, reason="再延", working_days=1)
