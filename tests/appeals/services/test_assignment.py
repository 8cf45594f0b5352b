"""Assignment inside a bureau: pool, round robin, least loaded, skills, away, caps; reassignment."""

from __future__ import annotations

import pytest

from appeals import services
from appeals.models import AppealEvent
from appeals.services import InvalidInput, NotAllowed, appeal_reassign
from notifications.models import OutboxEvent
from routing.models import Bureau
from tests import factories


def officers(bureau, n):
    return [factories.staff_user("officer", bureau) for _ in range(n)]


def file(city, **kwargs):
    return factories.submit(region=city, **kwargs).appeal


@pytest.mark.django_db
def test_pool_assigns_nobody_and_any_officer_signs_for(city, hrss, officer):
    appeal = file(city)
    assert appeal.state == "dispatched" and appeal.officer is None
    assert not AppealEvent.objects.filter(appeal=appeal, kind="assigned").exists()


@pytest.mark.django_db
def test_round_robin_cycles_through_officers_and_skips_those_away(city, hrss):
    hrss.assignment_mode = Bureau.AssignmentMode.ROUND_ROBIN
    hrss.save()
    a, b, c = officers(hrss, 3)
    assert [file(city).officer for _ in range(4)] == [a, b, c, a]
    b.staff_profile.is_away = True
    b.staff_profile.save()
    assert [file(city).officer for _ in range(3)] == [c, a, c]
    appeal = file(city)
    event = AppealEvent.objects.get(appeal=appeal, kind="assigned")
    assert event.data["mode"] == "round_robin" and event.data["officer_id"] == appeal.officer_id
    assert event.actor_kind == "system"
    assert OutboxEvent.objects.filter(appeal=appeal, event_type="appeal.assigned").exists()
    # Assigned is not signed for: the officer still signs for explicitly.
    assert appeal.state == "dispatched" and appeal.signed_at is None


@pytest.mark.django_db
def test_least_loaded_picks_the_officer_with_fewest_open_appeals_within_the_cap(city, hrss):
    hrss.assignment_mode = Bureau.AssignmentMode.LEAST_LOADED
    hrss.max_open_per_officer = 2
    hrss.save()
    a, b = officers(hrss, 2)
    first = file(city)
    assert first.officer == a  # tie: lowest id
    assert file(city).officer == b
    services.appeal_sign_for(appeal_id=first.pk, user=a)
    assert file(city).officer == a  # 1 each: tie again
    assert file(city).officer == b
    # Both at the cap of 2: the appeal stays in the pool, with the reason on record.
    capped = file(city)
    assert capped.officer is None
    skipped = AppealEvent.objects.get(appeal=capped, kind="assignment_skipped")
    assert skipped.data["reason"] == "no_eligible_officer"
    # Closing work frees capacity.
    services.appeal_submit_reply(appeal_id=first.pk, user=a, reply="已处理")
    assert file(city).officer == a


@pytest.mark.django_db
def test_skills_prefer_skilled_officers_and_fall_back_to_anyone(city, hrss):
    hrss.assignment_mode = Bureau.AssignmentMode.ROUND_ROBIN
    hrss.use_skills = True
    hrss.save()
    a, b = officers(hrss, 2)
    b.staff_profile.skills.add(factories.category("social_insurance"))
    social = factories.category("social_insurance")
    text = {"title": "社保缓缴", "description": "申请阶段性缓缴社保费，社保缴费基数调整后负担重。"}
    assert file(city, category=social, **text).officer == b
    assert file(city, category=social, **text).officer == b
    # Nobody has the employment skill: anyone eligible gets it.
    assert file(city).officer in (a, b)


@pytest.mark.django_db
def test_manual_dispatch_is_assigned_too(city, hrss, dispatcher, settings):
    settings.ROUTING = {**settings.ROUTING, "AUTO_ROUTE_CONFIDENCE": 1.01}
    hrss.assignment_mode = Bureau.AssignmentMode.ROUND_ROBIN
    hrss.save()
    (a,) = officers(hrss, 1)
    appeal = file(city, category=factories.category("other"))
    assert appeal.state == "triage"
    appeal = services.appeal_dispatch(appeal_id=appeal.pk, user=dispatcher, bureau_id=hrss.pk)
    assert appeal.officer == a
    kinds = list(AppealEvent.objects.filter(appeal=appeal).values_list("kind", flat=True))
    assert kinds[-2:] == ["dispatched", "assigned"]


@pytest.mark.django_db
def test_the_bureau_lead_reassigns_and_it_is_audited(city, hrss, lead, officer):
    colleague = factories.staff_user("officer", hrss)
    appeal = services.appeal_sign_for(appeal_id=file(city).pk, user=officer)
    with pytest.raises(NotAllowed):
        appeal_reassign(appeal_id=appeal.pk, user=officer, officer_id=colleague.pk)
    other_bureau_officer = factories.staff_user(
        "officer", factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))
    )
    with pytest.raises(InvalidInput):
        appeal_reassign(appeal_id=appeal.pk, user=lead, officer_id=other_bureau_officer.pk)
    with pytest.raises(InvalidInput):
        appeal_reassign(appeal_id=appeal.pk, user=lead, officer_id=officer.pk)
    version = appeal.version
    appeal = appeal_reassign(appeal_id=appeal.pk, user=lead, officer_id=colleague.pk, reason="原承办人休假")
    assert appeal.officer == colleague and appeal.version == version + 1
    event = AppealEvent.objects.filter(appeal=appeal).last()
    assert event.kind == "reassigned" and event.data["from_officer_id"] == officer.pk
    assert event.reason == "原承办人休假" and event.actor == lead
