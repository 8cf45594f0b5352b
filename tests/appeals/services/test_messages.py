"""appeal_add_message is the authority on who may write which kind of message."""

from __future__ import annotations

import pytest

from appeals import services
from appeals.models import AppealMessage
from appeals.services import InvalidInput, NotAllowed, StateConflict
from tests import factories


@pytest.mark.django_db
def test_the_appellant_only_supplements_and_only_while_the_appeal_is_open(handling, officer):
    with pytest.raises(InvalidInput):
        services.appeal_add_message(appeal_id=handling.pk, kind="internal_note", body="x", actor=services.APPELLANT)
    services.appeal_add_message(appeal_id=handling.pk, kind="appellant", body="补充合同", actor=services.APPELLANT)
    services.appeal_submit_reply(appeal_id=handling.pk, user=officer, reply="已答复")
    with pytest.raises(StateConflict):
        services.appeal_add_message(appeal_id=handling.pk, kind="appellant", body="再补充", actor=services.APPELLANT)
    assert AppealMessage.objects.filter(appeal=handling, kind="appellant").count() == 1


@pytest.mark.django_db
def test_only_the_handling_bureau_or_a_dispatcher_speaks_to_the_appellant(city, handling, dispatcher, finance):
    stranger = factories.staff_user("officer", finance)
    for kind in ("contact", "info_request", "co_handling"):
        with pytest.raises(NotAllowed):
            services.appeal_add_message(appeal_id=handling.pk, kind=kind, body="越权", actor=stranger)
    with pytest.raises(NotAllowed):
        services.appeal_add_message(appeal_id=handling.pk, kind="internal_note", body="看不到的诉求", actor=stranger)
    with pytest.raises(InvalidInput):
        services.appeal_add_message(appeal_id=handling.pk, kind="appellant", body="冒充诉求人", actor=dispatcher)
    services.appeal_add_message(appeal_id=handling.pk, kind="contact", body="分拨中心已致电", actor=dispatcher)
    assert not AppealMessage.objects.filter(appeal=handling, author=stranger).exists()


@pytest.mark.django_db
def test_a_co_handling_bureau_may_add_internal_notes(handling, officer, finance):
    finance_officer = factories.staff_user("officer", finance)
    services.cohandling_invite(appeal_id=handling.pk, user=officer, bureau_id=finance.pk, request="请核实")
    note = services.appeal_add_message(
        appeal_id=handling.pk, kind="internal_note", body="已核实", actor=finance_officer
    )
    assert note.is_internal


@pytest.mark.django_db
def test_a_stale_version_is_refused_by_the_service(handling, officer):
    stale = handling.version
    services.appeal_add_message(appeal_id=handling.pk, kind="contact", body="已联系", actor=officer)
    with pytest.raises(StateConflict) as conflict:
        services.appeal_request_information(
            appeal_id=handling.pk, user=officer, question="请补充", expected_version=stale
        )
    assert conflict.value.code == "stale"
    with pytest.raises(StateConflict):
        services.extension_request(
            appeal_id=handling.pk, user=officer, reason="核查", working_days=2, expected_version=stale
        )
