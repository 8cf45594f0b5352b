"""The deadline sweep: warning, urge (催办), supervision (督办) — once each, also when run twice at once."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections

from appeals import services
from appeals.models import Appeal, AppealEvent, AppealMessage
from appeals.services import run_sweep
from appeals.tasks import deadline_sweep
from notifications.models import OutboxEvent
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _ordinary_catch_all_reply_limit(db):
    """These tests count on the DOMAIN.md ordinary reply limit (5 working days): the reply limits
    by appeal type, tested in tests/routing/test_appeal_types.py, are switched off here."""
    factories.switch_off_type_deadline_policies()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def events(appeal, prefix="deadline."):
    return list(
        OutboxEvent.objects.filter(appeal=appeal, event_type__startswith=prefix)
        .order_by("id")
        .values_list("event_type", flat=True)
    )


def contact(appeal, officer):
    return services.appeal_add_message(
        appeal_id=appeal.pk, kind=AppealMessage.Kind.CONTACT, body="已电话联系企业负责人", actor=officer
    )


@pytest.fixture
def uncontacted(city, hrss, officer):
    """Signed for on Tue 3 Mar 2026 10:00, nobody contacted: first contact due Wed 4 Mar 10:00 (24 h)."""
    with time_machine.travel(at("2026-03-03T09:00"), tick=False):
        appeal = factories.submit(region=city).appeal
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    assert appeal.first_contact_due == at("2026-03-04T10:00")
    return appeal


@pytest.fixture
def signed(uncontacted, officer):
    """The same appeal, contacted at once: reply due Tue 10 Mar 10:00 (5 working days)."""
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        contact(uncontacted, officer)
    appeal = Appeal.objects.get(pk=uncontacted.pk)
    assert appeal.reply_due == at("2026-03-10T10:00")
    return appeal


def sweep_at(moment):
    with time_machine.travel(at(moment), tick=False):
        return run_sweep()


@pytest.mark.django_db
def test_a_missed_first_contact_is_reminded_once(uncontacted):
    assert sweep_at("2026-03-04T09:59")["deadline.first_contact"] == 0
    assert sweep_at("2026-03-04T10:00")["deadline.first_contact"] == 1
    assert sweep_at("2026-03-05T10:00")["deadline.first_contact"] == 0
    assert events(uncontacted) == ["deadline.first_contact"]
    appeal = Appeal.objects.get(pk=uncontacted.pk)
    assert appeal.first_contact_urged_at == at("2026-03-04T10:00")
    event = AppealEvent.objects.get(appeal=appeal, kind="first_contact_overdue")
    assert event.data["deadline"] == "first_contact" and event.data["overdue_hours"] == 0.0
    row = OutboxEvent.objects.get(appeal=appeal, event_type="deadline.first_contact")
    assert row.bureau_id == appeal.bureau_id


@pytest.mark.django_db
def test_no_first_contact_reminder_once_the_appellant_was_contacted(uncontacted, officer):
    with time_machine.travel(at("2026-03-04T09:00"), tick=False):
        contact(uncontacted, officer)
    assert sweep_at("2026-03-04T11:00")["deadline.first_contact"] == 0
    assert events(uncontacted) == []


@pytest.mark.django_db
def test_a_paused_appeal_gets_no_first_contact_reminder(uncontacted, officer):
    with time_machine.travel(at("2026-03-03T11:00"), tick=False):
        services.appeal_add_message(
            appeal_id=uncontacted.pk, kind=AppealMessage.Kind.INFO_REQUEST, body="请补充营业执照扫描件", actor=officer
        )
    assert sweep_at("2026-03-05T10:00")["deadline.first_contact"] == 0


@pytest.mark.django_db
def test_the_first_contact_reminder_reaches_the_officer_in_both_languages(uncontacted, officer):
    from notifications import delivery
    from notifications.models import Delivery

    sweep_at("2026-03-04T10:30")
    row = OutboxEvent.objects.get(appeal=uncontacted, event_type="deadline.first_contact")
    for lang, needle in (("zh-hans", "首次联系时限"), ("en", "first-contact deadline")):
        subject, body = delivery.render(Delivery(event=row, channel="inbox", recipient_key="user:1", language=lang))
        assert subject in ("尚未联系诉求人", "Appellant not yet contacted")
        assert uncontacted.tracking_number in body and needle in body and "2026-03-04 10:00" in body


@pytest.mark.django_db
def test_warning_urge_and_supervision_each_happen_once(signed):
    def sweep(moment):
        with time_machine.travel(at(moment), tick=False):
            return run_sweep()

    assert sum(sweep("2026-03-09T09:00").values()) == 0  # 25 h before: not yet (warning at 24 h)
    assert sweep("2026-03-09T10:30")["deadline.warning"] == 1
    assert sum(sweep("2026-03-09T12:00").values()) == 0
    assert sweep("2026-03-10T10:00")["deadline.urged"] == 1
    assert sum(sweep("2026-03-11T10:00").values()) == 0
    # Supervision 2 working days after the deadline: Thu 12 Mar 10:00.
    assert sum(sweep("2026-03-12T09:59").values()) == 0
    assert sweep("2026-03-12T10:00")["deadline.supervised"] == 1
    assert sum(sweep("2026-03-20T10:00").values()) == 0
    assert events(signed) == ["deadline.warning", "deadline.urged", "deadline.supervised"]
    appeal = Appeal.objects.get(pk=signed.pk)
    assert appeal.warned_at == at("2026-03-09T10:30")
    assert appeal.urged_at == at("2026-03-10T10:00")
    assert appeal.supervised_at == at("2026-03-12T10:00")
    audit = AppealEvent.objects.filter(appeal=signed, kind__startswith="deadline_").values_list("kind", flat=True)
    assert list(audit) == ["deadline_warning", "deadline_urged", "deadline_supervised"]
    outbox = OutboxEvent.objects.get(appeal=signed, event_type="deadline.supervised")
    assert outbox.bureau_id == signed.bureau_id and outbox.payload["deadline"] == "reply"


@pytest.mark.django_db
def test_a_late_first_run_notifies_only_the_most_severe_step(signed):
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        counts = deadline_sweep()
    assert counts["deadline.supervised"] == 1 and counts["deadline.warning"] == counts["deadline.urged"] == 0
    appeal = Appeal.objects.get(pk=signed.pk)
    assert appeal.warned_at and appeal.urged_at and appeal.supervised_at
    event = AppealEvent.objects.get(appeal=signed, kind="deadline_supervised")
    assert event.data["also_marked"] == ["deadline_warning", "deadline_urged"]


@pytest.mark.django_db
def test_sign_for_markers_do_not_suppress_the_reply_clock(city, hrss, officer):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        appeal = factories.submit(region=city).appeal  # sign for due Wed 4 Mar 10:00
    with time_machine.travel(at("2026-03-04T11:00"), tick=False):
        assert run_sweep()["deadline.urged"] == 1
        appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    with time_machine.travel(at("2026-03-11T11:00"), tick=False):  # reply due 11 Mar 11:00
        assert run_sweep()["deadline.urged"] == 1, "a new clock gets its own urge"
    assert events(appeal).count("deadline.urged") == 2


@pytest.mark.django_db
def test_an_approved_extension_resets_the_markers(signed, dispatcher, officer):
    with time_machine.travel(at("2026-03-10T11:00"), tick=False):
        assert run_sweep()["deadline.urged"] == 1
        extension = services.extension_request(appeal_id=signed.pk, user=officer, reason="需要现场核查", working_days=3)
        services.extension_decide(extension_id=extension.pk, user=dispatcher, approve=True)
    with time_machine.travel(at("2026-03-13T10:00"), tick=False):  # new due 13 Mar 10:00
        counts = run_sweep()
    assert counts["deadline.urged"] == 1


@pytest.mark.django_db
def test_closed_and_returned_appeals_are_not_swept(city, hrss, officer):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        appeal = factories.submit(region=city).appeal
        services.appeal_return(appeal_id=appeal.pk, user=officer, reason="不属于本单位")
    with time_machine.travel(at("2026-04-03T10:00"), tick=False):
        assert sum(run_sweep().values()) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_mark_and_notify_each_appeal_once(city, hrss, officer):
    # transaction=True: each thread needs its own committed view. serialized_rollback restores the
    # taxonomy rows created by migrations after the flush, for the tests that run after this one.
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        appeals = [factories.submit(region=city).appeal for _ in range(12)]
        for appeal in appeals[:6]:
            services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with time_machine.travel(at("2026-03-30T10:00"), tick=False):
                barrier.wait(timeout=10)
                results.append(run_sweep())
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(r["deadline.supervised"] for r in results) == 12
    # The six signed-for appeals were never contacted: one first-contact reminder each, not two.
    assert sum(r["deadline.first_contact"] for r in results) == 6
    for appeal in appeals[:6]:
        assert sorted(events(appeal)) == ["deadline.first_contact", "deadline.supervised"]
        assert AppealEvent.objects.filter(appeal=appeal, kind="first_contact_overdue").count() == 1
    for appeal in appeals:
        assert events(appeal).count("deadline.supervised") == 1
        assert AppealEvent.objects.filter(appeal=appeal, kind="deadline_supervised").count() == 1
    for appeal in appeals[6:]:
        assert events(appeal) == ["deadline.supervised"]
    # And once more, for good measure: nothing left to do.
    with time_machine.travel(at("2026-03-31T10:00"), tick=False):
        assert sum(run_sweep().values()) == 0
