"""Merged appeals (并单) are told about their master's outcome, once each."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from appeals import services
from appeals.models import AppealEvent
from notifications.models import OutboxEvent
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


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
