"""并单 into open appeals only, its notices, and undoing a wrong merge (撤销并单)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from appeals import audit, services
from appeals.models import Appeal, AppealEvent, AppealState
from notifications import delivery, tasks
from notifications.models import Delivery, OutboxEvent
from routing import deadlines
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _triage_other(settings):
    settings.ROUTING = {**settings.ROUTING, "AUTO_ROUTE_CONFIDENCE": 1.01}


def triaged(city, **kwargs):
    return factories.submit(region=city, category=factories.category("other"), **kwargs).appeal


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_merge_into_a_replied_master_is_refused_and_nothing_is_saved(city, hrss, officer, dispatcher):
    master = factories.submit(region=city).appeal
    services.appeal_sign_for(appeal_id=master.pk, user=officer)
    services.appeal_submit_reply(appeal_id=master.pk, user=officer, reply="已答复")
    follower = triaged(city)
    events_before = follower.events.count()
    with pytest.raises(services.InvalidInput) as error:
        services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    assert error.value.code == "master_closed"
    assert master.tracking_number in error.value.message and "已答复" in error.value.message
    follower.refresh_from_db()
    assert follower.state == AppealState.TRIAGE and follower.merged_into_id is None
    assert follower.events.count() == events_before
    assert not OutboxEvent.objects.filter(appeal=follower, event_type="appeal.merged").exists()


def test_merge_into_a_merged_or_withdrawn_appeal_is_refused(city, dispatcher):
    master, follower, third = triaged(city), triaged(city), triaged(city)
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    with pytest.raises(services.InvalidInput, match="已并单"):
        services.appeal_merge(appeal_id=third.pk, user=dispatcher, master_id=follower.pk)


def test_duplicate_suggestions_list_only_open_appeals(city, hrss, officer, dispatcher):
    text = {"title": "招工难，希望组织专场招聘会", "description": "我们工厂今年招工很难，希望人社部门组织专场招聘会。"}
    enterprise = factories.credit_code()
    open_one = factories.submit(region=city, credit_code=enterprise, **text).appeal
    replied = factories.submit(region=city, credit_code=enterprise, **text).appeal
    services.appeal_sign_for(appeal_id=replied.pk, user=officer)
    services.appeal_submit_reply(appeal_id=replied.pk, user=officer, reply="已答复")
    appeal = triaged(city, credit_code=enterprise, **text)
    found = [c.appeal.pk for c in services_duplicates(dispatcher, appeal)]
    assert open_one.pk in found and replied.pk not in found


def services_duplicates(user, appeal):
    from appeals.selectors import duplicate_candidates

    return duplicate_candidates(user=user, appeal=appeal)


def test_merge_tells_the_appellant_by_sms_and_email_in_both_languages(city, dispatcher):
    master = triaged(city)
    follower = triaged(city, contact_email="boss@example.com")
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk, note="同一问题")
    event = OutboxEvent.objects.get(appeal=follower, event_type="appeal.merged")
    assert event.payload["master_tracking_number"] == master.tracking_number
    tasks.process_event(event.pk)
    rows = Delivery.objects.filter(event=event)
    assert {(d.recipient_key, d.channel) for d in rows} == {("appellant", "sms"), ("appellant", "email")}
    for row in rows:
        for lang in ("zh-hans", "en"):
            row.language = lang
            subject, body = delivery.render(row)
            assert master.tracking_number in body and follower.tracking_number in body
            if lang == "en":
                assert not has_cjk(subject + body), body
                assert "still" in body or "keep working" in body
            else:
                assert "合并办理" in subject + body
    # The master's trail shows the duplicate it took in.
    taken = AppealEvent.objects.get(appeal=master, kind="duplicate_merged")
    assert taken.data["follower_tracking_number"] == follower.tracking_number


def test_master_outcome_reaches_every_follower_appellant(city, hrss, officer, dispatcher):
    master = factories.submit(region=city).appeal
    followers = [triaged(city, contact_email=f"f{i}@example.com") for i in range(2)]
    for follower in followers:
        services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    services.appeal_sign_for(appeal_id=master.pk, user=officer)
    services.appeal_submit_reply(appeal_id=master.pk, user=officer, reply="已协调招聘会")
    assert services.notify_merged_followers() == 2
    for follower in followers:
        event = OutboxEvent.objects.get(appeal=follower, event_type="appeal.master_outcome")
        tasks.process_event(event.pk)
        rows = list(Delivery.objects.filter(event=event))
        assert {d.channel for d in rows} == {"sms", "email"}
        for row in rows:
            row.language = "en"
            _subject, body = delivery.render(row)
            assert "has been answered" in body and master.tracking_number in body


MONDAY = datetime(2026, 3, 9, 10, 0, tzinfo=SH)


def test_unmerge_restores_the_state_and_moves_the_clocks_by_the_time_merged(city, dispatcher):
    with time_machine.travel(MONDAY, tick=False):
        master = triaged(city)
        follower = triaged(city)
        # A deadline the follower carried when merged (e.g. set by a policy): it must not lose the merged time.
        due = MONDAY + timedelta(days=2)
        Appeal.objects.filter(pk=follower.pk).update(reply_due=due)
        follower.refresh_from_db()
        services.appeal_merge(
            appeal_id=follower.pk, user=dispatcher, master_id=master.pk, expected_version=follower.version
        )
    follower.refresh_from_db()
    assert follower.state == AppealState.MERGED and follower.closed_at is not None
    merge_event = follower.events.get(kind="merged")
    assert merge_event.data["restore"]["state"] == AppealState.TRIAGE
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        services.appeal_unmerge(
            appeal_id=follower.pk, user=dispatcher, reason="并非同一问题", expected_version=follower.version
        )
    follower.refresh_from_db()
    assert follower.state == AppealState.TRIAGE
    assert follower.merged_into_id is None and follower.closed_at is None
    expected = deadlines.add_working_time(due, deadlines.working_time_between(MONDAY, MONDAY + timedelta(days=1)))
    assert follower.reply_due == expected and follower.reply_due > due
    undone = follower.events.get(kind="unmerged")
    assert undone.reason == "并非同一问题" and undone.actor == dispatcher
    assert undone.from_state == AppealState.MERGED and undone.to_state == AppealState.TRIAGE
    assert undone.data["master_tracking_number"] == master.tracking_number and "reply_due" in undone.data
    assert AppealEvent.objects.get(appeal=master, kind="duplicate_unmerged").reason == "并非同一问题"
    event = OutboxEvent.objects.get(appeal=follower, event_type="appeal.unmerged")
    tasks.process_event(event.pk)
    [sms] = Delivery.objects.filter(event=event, channel="sms")
    assert "撤销" in delivery.render(sms)[1]
    # The appeal is a triage appeal again: a dispatcher may dispatch it.
    services.appeal_dispatch(appeal_id=follower.pk, user=dispatcher, bureau_id=factories.BureauFactory(region=city).pk)


def test_unmerge_is_refused_once_the_master_was_replied(city, hrss, officer, dispatcher):
    master = factories.submit(region=city).appeal
    follower = triaged(city)
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    services.appeal_sign_for(appeal_id=master.pk, user=officer)
    services.appeal_submit_reply(appeal_id=master.pk, user=officer, reply="已答复")
    assert not services.can_unmerge(Appeal.objects.get(pk=follower.pk))
    with pytest.raises(services.StateConflict) as error:
        services.appeal_unmerge(appeal_id=follower.pk, user=dispatcher, reason="并错了")
    assert error.value.code == "moved_on" and "已答复" in error.value.message
    follower.refresh_from_db()
    assert follower.state == AppealState.MERGED and not follower.events.filter(kind="unmerged").exists()


def test_unmerge_is_refused_when_the_follower_changed_after_the_merge(city, dispatcher):
    master, follower = triaged(city), triaged(city)
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    # An internal note does not count as a change …
    services.appeal_add_message(appeal_id=follower.pk, kind="internal_note", body="核对中", actor=dispatcher)
    assert services.can_unmerge(Appeal.objects.get(pk=follower.pk))
    # … any other event on the follower after its merge does.
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=follower.pk)
        audit.record_event(appeal=locked, kind="followup_rated", actor="system", data={"level": 2})
    with pytest.raises(services.StateConflict, match="追加评价") as error:
        services.appeal_unmerge(appeal_id=follower.pk, user=dispatcher, reason="并错了")
    assert error.value.code == "moved_on"
    assert Appeal.objects.get(pk=follower.pk).state == AppealState.MERGED


def test_unmerge_needs_a_dispatcher_a_reason_and_a_merged_appeal(city, officer, dispatcher):
    master, follower = triaged(city), triaged(city)
    with pytest.raises(services.StateConflict, match="没有并入"):
        services.appeal_unmerge(appeal_id=follower.pk, user=dispatcher, reason="x")
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    with pytest.raises(services.InvalidInput):
        services.appeal_unmerge(appeal_id=follower.pk, user=dispatcher, reason="  ")
    with pytest.raises(services.NotAllowed):
        services.appeal_unmerge(appeal_id=follower.pk, user=officer, reason="并错了")
    stale = Appeal.objects.get(pk=follower.pk).version - 1
    with pytest.raises(services.StateConflict) as error:
        services.appeal_unmerge(appeal_id=follower.pk, user=dispatcher, reason="并错了", expected_version=stale)
    assert error.value.code == "stale"
    assert Appeal.objects.get(pk=follower.pk).state == AppealState.MERGED
