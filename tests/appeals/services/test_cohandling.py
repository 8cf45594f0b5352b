"""Co-handling (主办/协办): invite, answer, decline, and who sees what."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from appeals import selectors, services
from appeals.models import AppealEvent, AppealMessage, CoHandling
from appeals.selectors import appeal_get_for_user
from appeals.services import InvalidInput, NotAllowed, StateConflict
from notifications.models import OutboxEvent
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


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
