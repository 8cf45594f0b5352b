"""Re-routing by a dispatcher: the dispatch clock restarts and the correction is kept as an example."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import services
from appeals.models import AppealEvent
from appeals.services import InvalidInput, NotAllowed, StateConflict
from notifications.models import OutboxEvent
from routing.models import TrainingExample
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


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
