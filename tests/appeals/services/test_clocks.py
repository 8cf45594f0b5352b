"""The paused clock (waiting on the appellant) and the per-policy extension limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import services
from appeals.models import AppealEvent, AppealMessage
from appeals.services import InvalidInput, StateConflict
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
