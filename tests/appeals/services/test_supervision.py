"""催办 and 督办 by a supervisor: a required note, notices to the officer and leads, the overdue board."""

from __future__ import annotations

import pytest

from appeals import services
from appeals.models import Appeal, AppealEvent
from appeals.selectors import overdue_board
from appeals.services.escalation import candidate_ids
from notifications import delivery, tasks
from notifications.models import Delivery, OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(dispatch_centre):
    return factories.staff_user("supervisor", dispatch_centre, display_name="督办员甲")


def test_urge_needs_a_note_and_a_supervisor(handling, supervisor, dispatcher):
    with pytest.raises(services.InvalidInput):
        services.appeal_supervisor_urge(appeal_id=handling.pk, user=supervisor, note=" ")
    with pytest.raises(services.NotAllowed):
        services.appeal_supervisor_urge(appeal_id=handling.pk, user=dispatcher, note="请尽快")
    assert not AppealEvent.objects.filter(appeal=handling, kind="supervisor_urged").exists()
    assert not OutboxEvent.objects.filter(appeal=handling, event_type="supervision.urged").exists()


def test_urge_notifies_the_officer_and_the_lead_and_keeps_open_forms_valid(handling, supervisor, officer, lead):
    officer.email, lead.email = "officer@example.com", "lead@example.com"
    officer.save()
    lead.save()
    version = handling.version
    services.appeal_supervisor_urge(
        appeal_id=handling.pk, user=supervisor, note="企业反映多次，请今天内联系", expected_version=version
    )
    appeal = Appeal.objects.get(pk=handling.pk)
    assert appeal.version == version and appeal.urged_at is None, "the sweep's own urge still comes at the deadline"
    event = AppealEvent.objects.get(appeal=handling, kind="supervisor_urged")
    assert event.reason == "企业反映多次，请今天内联系" and event.actor == supervisor
    outbox = OutboxEvent.objects.get(appeal=handling, event_type="supervision.urged")
    tasks.process_event(outbox.pk)
    got = set(Delivery.objects.filter(event=outbox).values_list("recipient_key", "channel"))
    assert {(f"user:{officer.pk}", "inbox"), (f"user:{officer.pk}", "email")} <= got
    assert {(f"user:{lead.pk}", "inbox"), (f"user:{lead.pk}", "email")} <= got
    row = Delivery.objects.filter(event=outbox, channel="email").first()
    subject, body = delivery.render(row)
    assert "催办" in subject and "企业反映多次" in body and "督办员甲" in body
    row.language = "en"
    subject, body = delivery.render(row)
    assert subject.startswith("[Huying] Urged by a supervisor") and "Note: 企业反映多次" in body


def test_supervise_marks_the_appeal_once_and_shows_on_the_overdue_board(handling, supervisor, officer):
    services.appeal_supervisor_supervise(appeal_id=handling.pk, user=supervisor, note="列入本周督办")
    appeal = Appeal.objects.get(pk=handling.pk)
    assert appeal.supervised_at is not None and services.is_supervised(appeal)
    assert appeal in overdue_board(user=supervisor, status="supervised")
    assert AppealEvent.objects.get(appeal=handling, kind="supervisor_supervised").reason == "列入本周督办"
    outbox = OutboxEvent.objects.get(appeal=handling, event_type="supervision.supervised")
    assert outbox.payload["note"] == "列入本周督办"
    tasks.process_event(outbox.pk)
    assert Delivery.objects.filter(event=outbox, recipient_key=f"user:{officer.pk}", channel="inbox").exists()
    with pytest.raises(services.StateConflict) as error:
        services.appeal_supervisor_supervise(appeal_id=handling.pk, user=supervisor, note="再次督办")
    assert error.value.code == "already_supervised"
    # A hand 督办 leaves the sweep's warning and urge at the deadline due.
    Appeal.objects.filter(pk=handling.pk).update(reply_due=appeal.signed_at)
    assert handling.pk in candidate_ids(appeal.signed_at)


def test_supervision_is_refused_outside_the_bureau_states(city, dispatch_centre, supervisor, settings):
    settings.ROUTING = {**settings.ROUTING, "AUTO_ROUTE_CONFIDENCE": 1.01}
    triaged = factories.submit(region=city, category=factories.category("other")).appeal
    with pytest.raises(services.StateConflict) as error:
        services.appeal_supervisor_urge(appeal_id=triaged.pk, user=supervisor, note="请尽快")
    assert error.value.code == "wrong_state"
