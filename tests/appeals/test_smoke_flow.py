from appeals import services
from appeals.models import AppealState, RatingLevel
from tests import factories


def test_submitted_appeal_is_routed_to_the_city_bureau_and_can_be_closed(hrss, officer):
    submitted = factories.submit(region=hrss.region)
    appeal = submitted.appeal
    assert appeal.state == AppealState.DISPATCHED
    assert appeal.bureau == hrss
    appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    assert appeal.state == AppealState.HANDLING
    appeal = services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="已协调招聘会。")
    assert appeal.state == AppealState.REPLIED
    appeal = services.appeal_rate(
        appeal_id=appeal.pk, access_code=submitted.access_code, level=RatingLevel.SATISFIED, resolved=True
    )
    assert appeal.state == AppealState.CLOSED
    assert [e.kind for e in appeal.events.order_by("seq")] == [
        "submitted",
        "dispatched",
        "signed_for",
        "replied",
        "closed",
    ]
