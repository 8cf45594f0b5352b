"""The scheduled default rating and the follow-up rating service."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from appeals import services
from appeals.models import AppealEvent, AppealState, Rating, RatingLevel
from appeals.tasks import close_unrated_appeals
from config.celery import app as celery_app
from tests import factories

pytestmark = pytest.mark.django_db


def _replied(region, officer):
    submitted = factories.submit(region=region)
    services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=submitted.appeal.pk, user=officer, reply="已处理")
    return submitted


def test_unrated_replies_are_closed_as_basically_satisfied_by_default(portal_city, officer, settings):
    settings.HUYING = {**settings.HUYING, "DEFAULT_RATING_DAYS": 7}
    old = _replied(portal_city, officer)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        fresh = _replied(portal_city, officer)
    rated = _replied(portal_city, officer)
    services.appeal_rate(appeal_id=rated.appeal.pk, access_code=rated.access_code, level=2, resolved=False)
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1)):
        assert close_unrated_appeals() == 1
        # Idempotent: a second run finds nothing more to do.
        assert close_unrated_appeals() == 0
    old.appeal.refresh_from_db()
    fresh.appeal.refresh_from_db()
    rated.appeal.refresh_from_db()
    assert old.appeal.state == AppealState.CLOSED
    rating = Rating.objects.get(appeal=old.appeal)
    assert rating.is_default and rating.level == RatingLevel.BASICALLY_SATISFIED
    assert fresh.appeal.state == AppealState.REPLIED
    assert rated.appeal.state == AppealState.HANDLING
    event = AppealEvent.objects.get(appeal=old.appeal, kind="closed")
    assert event.data["default"] is True and event.actor_kind == "system"


def test_default_rating_task_is_scheduled():
    entries = [e["task"] for e in celery_app.conf.beat_schedule.values()]
    assert "appeals.tasks.close_unrated_appeals" in entries


def test_follow_up_only_after_closing_and_only_once(portal_city, officer):
    submitted = _replied(portal_city, officer)
    appeal_id, code = submitted.appeal.pk, submitted.access_code
    with pytest.raises(services.StateConflict):
        services.appeal_followup_rate(appeal_id=appeal_id, access_code=code, level=4, resolved=True)
    services.appeal_rate(appeal_id=appeal_id, access_code=code, level=4, resolved=True)
    with pytest.raises(services.NotAllowed):
        services.appeal_followup_rate(appeal_id=appeal_id, access_code="WRONG123", level=4, resolved=True)
    with pytest.raises(services.InvalidInput):
        services.appeal_followup_rate(appeal_id=appeal_id, access_code=code, level=9, resolved=True)
    rating = services.appeal_followup_rate(
        appeal_id=appeal_id, access_code=code, level=2, resolved=False, comment=" 又出问题了 "
    )
    assert rating.is_followup and rating.comment == "又出问题了"
    submitted.appeal.refresh_from_db()
    assert submitted.appeal.state == AppealState.CLOSED  # a follow-up never re-opens
    with pytest.raises(services.StateConflict):
        services.appeal_followup_rate(appeal_id=appeal_id, access_code=code, level=5, resolved=True)
    from appeals.audit import verify_chain

    assert verify_chain(AppealEvent.objects.filter(appeal_id=appeal_id).order_by("seq")) == []
