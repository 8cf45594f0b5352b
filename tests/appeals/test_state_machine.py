"""The appeal state machine as a full source-state × transition matrix, through the services.

Every transition is attempted from every state by a user who would be allowed to make it from
its proper source. It must succeed exactly when the state is one of its sources, and otherwise
fail with ``StateConflict`` (HTTP 409) leaving the appeal and its audit trail untouched.
A second matrix checks that the wrong people are refused with ``NotAllowed`` (HTTP 403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from appeals import access_codes, services
from appeals.models import Appeal, AppealEvent, AppealState, RatingLevel
from tests import factories

S = AppealState
ALL_STATES = list(S)


@dataclass
class World:
    hrss: object
    finance: object
    officer: object
    lead: object
    finance_officer: object
    finance_lead: object
    dispatcher: object
    other_officer: object
    codes: dict


@pytest.fixture
def world(city, hrss, finance, dispatch_centre, officer, lead, dispatcher) -> World:
    finance.requires_review = True  # replies from this bureau go through its lead (待审核)
    finance.save()
    other_city = factories.RegionFactory(code="zhuhai", name="珠海市")
    other_hrss = factories.BureauFactory(region=other_city, bureau_type=factories.bureau_type("hrss"))
    return World(
        hrss=hrss,
        finance=finance,
        officer=officer,
        lead=lead,
        finance_officer=factories.staff_user("officer", finance),
        finance_lead=factories.staff_user("lead", finance),
        dispatcher=dispatcher,
        other_officer=factories.staff_user("officer", other_hrss),
        codes={},
    )


def _submitted(w: World, **overrides) -> Appeal:
    """An appeal that routing has not touched yet (state submitted)."""
    enterprise = factories.EnterpriseFactory(region=w.hrss.region)
    number = access_codes.next_tracking_number(timezone.localdate())
    appeal = Appeal.objects.create(
        tracking_number=number,
        access_code_hash=access_codes.hash_access_code(number, "ABCD2345"),
        enterprise=enterprise,
        contact_name="王五",
        contact_phone="+8613800138000",
        region=w.hrss.region,
        industry="C",
        enterprise_size="small",
        category=factories.category("employment"),
        title="测试",
        description="测试内容",
        **overrides,
    )
    w.codes[appeal.pk] = "ABCD2345"
    return appeal


# Text that fits each category, so the classifier agrees with the appellant's choice.
TEXT = {
    "employment": ("招工困难", "春节后工人返岗率低，订单交付困难，希望协助招聘普工。"),
    "financing": ("申请贷款被拒", "企业想申请三百万元流动资金贷款，银行要求抵押担保，希望协调融资担保和贴息政策。"),
    "other": ("想了解情况", "有些事情想咨询一下。"),
}


def _submit(w: World, category: str = "employment") -> Appeal:
    title, description = TEXT[category]
    result = factories.submit(
        region=w.hrss.region, category=factories.category(category), title=title, description=description
    )
    w.codes[result.appeal.pk] = result.access_code
    return result.appeal


def _handler(w: World, appeal: Appeal):
    return w.finance_officer if appeal.bureau_id == w.finance.pk else w.officer


def _lead_of(w: World, appeal: Appeal):
    return w.finance_lead if appeal.bureau_id == w.finance.pk else w.lead


def make(state: str, w: World) -> Appeal:
    """Bring a fresh appeal to ``state`` through the real services."""
    if state == S.SUBMITTED:
        return _submitted(w)
    if state == S.TRIAGE:
        return _submit(w, "other")
    if state == S.REJECTED:
        appeal = make(S.TRIAGE, w)
        return services.appeal_reject(appeal_id=appeal.pk, user=w.dispatcher, reason="不属于受理范围")
    if state == S.MERGED:
        master = _submit(w)
        appeal = make(S.TRIAGE, w)
        return services.appeal_merge(appeal_id=appeal.pk, user=w.dispatcher, master_id=master.pk)
    if state == S.REVIEW:
        appeal = _submit(w, "financing")
        services.appeal_sign_for(appeal_id=appeal.pk, user=w.finance_officer)
        return services.appeal_submit_reply(appeal_id=appeal.pk, user=w.finance_officer, reply="草拟答复")
    appeal = _submit(w)
    if state == S.DISPATCHED:
        return appeal
    if state == S.RETURNED:
        return services.appeal_return(appeal_id=appeal.pk, user=w.officer, reason="不属于本单位职责")
    if state == S.WITHDRAWN:
        return services.appeal_withdraw(appeal_id=appeal.pk, access_code=w.codes[appeal.pk])
    appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=w.officer)
    if state == S.HANDLING:
        return appeal
    appeal = services.appeal_submit_reply(appeal_id=appeal.pk, user=w.officer, reply="已处理")
    if state == S.REPLIED:
        return appeal
    assert state == S.CLOSED
    return services.appeal_rate(
        appeal_id=appeal.pk, access_code=w.codes[appeal.pk], level=RatingLevel.SATISFIED, resolved=True
    )


# name → (sources, expected target, action run by the right person)
Action = Callable[[World, Appeal], Appeal]
TRANSITIONS: dict[str, tuple[list[str], str | None, Action]] = {
    "dispatch": (
        [S.TRIAGE],
        S.DISPATCHED,
        lambda w, a: services.appeal_dispatch(appeal_id=a.pk, user=w.dispatcher, bureau_id=w.hrss.pk),
    ),
    "reject": (
        [S.SUBMITTED, S.TRIAGE],
        S.REJECTED,
        lambda w, a: services.appeal_reject(appeal_id=a.pk, user=w.dispatcher, reason="涉诉事项，请走司法渠道"),
    ),
    "merge": (
        [S.SUBMITTED, S.TRIAGE],
        S.MERGED,
        lambda w, a: services.appeal_merge(appeal_id=a.pk, user=w.dispatcher, master_id=_submit(w).pk),
    ),
    "sign_for": (
        [S.DISPATCHED],
        S.HANDLING,
        lambda w, a: services.appeal_sign_for(appeal_id=a.pk, user=_handler(w, a)),
    ),
    "return": (
        [S.DISPATCHED],
        S.RETURNED,
        lambda w, a: services.appeal_return(appeal_id=a.pk, user=_handler(w, a), reason="非本单位职责"),
    ),
    "arbitrate": (
        [S.RETURNED],
        S.DISPATCHED,
        lambda w, a: services.appeal_arbitrate_return(
            appeal_id=a.pk, user=w.dispatcher, bureau_id=w.finance.pk, ruling="改派金融局"
        ),
    ),
    "reply": (
        [S.HANDLING],
        S.REPLIED,
        lambda w, a: services.appeal_submit_reply(appeal_id=a.pk, user=_handler(w, a), reply="答复内容"),
    ),
    "approve": (
        [S.REVIEW],
        S.REPLIED,
        lambda w, a: services.appeal_approve_reply(appeal_id=a.pk, user=_lead_of(w, a)),
    ),
    "send_back": (
        [S.REVIEW],
        S.HANDLING,
        lambda w, a: services.appeal_send_back(appeal_id=a.pk, user=_lead_of(w, a), reason="请补充政策依据"),
    ),
    "rate_good": (
        [S.REPLIED],
        S.CLOSED,
        lambda w, a: services.appeal_rate(
            appeal_id=a.pk, access_code=w.codes[a.pk], level=RatingLevel.BASICALLY_SATISFIED, resolved=True
        ),
    ),
    "rate_bad": (
        [S.REPLIED],
        S.HANDLING,
        lambda w, a: services.appeal_rate(
            appeal_id=a.pk, access_code=w.codes[a.pk], level=RatingLevel.DISSATISFIED, resolved=False
        ),
    ),
    "withdraw": (
        [S.SUBMITTED, S.TRIAGE, S.DISPATCHED, S.RETURNED, S.HANDLING, S.REVIEW],
        S.WITHDRAWN,
        lambda w, a: services.appeal_withdraw(appeal_id=a.pk, access_code=w.codes[a.pk]),
    ),
}

MATRIX = [(state, name) for name in TRANSITIONS for state in ALL_STATES]


@pytest.mark.parametrize(("state", "transition"), MATRIX, ids=[f"{s}-{t}" for s, t in MATRIX])
def test_transition_matrix(world, state, transition):
    sources, target, action = TRANSITIONS[transition]
    appeal = make(state, world)
    assert appeal.state == state
    events_before = AppealEvent.objects.filter(appeal=appeal).count()
    version_before = Appeal.objects.get(pk=appeal.pk).version
    if state in sources:
        result = action(world, appeal)
        assert result.state == target
        last = AppealEvent.objects.filter(appeal=appeal).order_by("-seq").first()
        assert (last.from_state, last.to_state) == (state, target)
        assert Appeal.objects.get(pk=appeal.pk).version == version_before + 1
    else:
        with pytest.raises(services.StateConflict) as excinfo:
            action(world, appeal)
        assert excinfo.value.status == 409
        assert excinfo.value.message  # a sentence a person can act on
        fresh = Appeal.objects.get(pk=appeal.pk)
        assert fresh.state == state
        assert fresh.version == version_before
        assert AppealEvent.objects.filter(appeal=appeal).count() == events_before


# transition → (source state to start from, the wrong person's attempt)
DENIALS: dict[str, tuple[str, Action]] = {
    "dispatch by an officer": (
        S.TRIAGE,
        lambda w, a: services.appeal_dispatch(appeal_id=a.pk, user=w.officer, bureau_id=w.hrss.pk),
    ),
    "reject by an officer": (
        S.TRIAGE,
        lambda w, a: services.appeal_reject(appeal_id=a.pk, user=w.officer, reason="x"),
    ),
    "merge by a lead": (
        S.TRIAGE,
        lambda w, a: services.appeal_merge(appeal_id=a.pk, user=w.lead, master_id=_submit(w).pk),
    ),
    "sign for by another city's officer": (
        S.DISPATCHED,
        lambda w, a: services.appeal_sign_for(appeal_id=a.pk, user=w.other_officer),
    ),
    "sign for by another bureau's officer": (
        S.DISPATCHED,
        lambda w, a: services.appeal_sign_for(appeal_id=a.pk, user=w.finance_officer),
    ),
    "sign for by a dispatcher": (
        S.DISPATCHED,
        lambda w, a: services.appeal_sign_for(appeal_id=a.pk, user=w.dispatcher),
    ),
    "return by another bureau": (
        S.DISPATCHED,
        lambda w, a: services.appeal_return(appeal_id=a.pk, user=w.finance_officer, reason="x"),
    ),
    "arbitrate by an officer": (
        S.RETURNED,
        lambda w, a: services.appeal_arbitrate_return(appeal_id=a.pk, user=w.officer, bureau_id=w.hrss.pk, ruling="x"),
    ),
    "reply by another bureau": (
        S.HANDLING,
        lambda w, a: services.appeal_submit_reply(appeal_id=a.pk, user=w.finance_officer, reply="x"),
    ),
    "approve by the officer": (
        S.REVIEW,
        lambda w, a: services.appeal_approve_reply(appeal_id=a.pk, user=w.finance_officer),
    ),
    "approve by another bureau's lead": (
        S.REVIEW,
        lambda w, a: services.appeal_approve_reply(appeal_id=a.pk, user=w.lead),
    ),
    "send back by the officer": (
        S.REVIEW,
        lambda w, a: services.appeal_send_back(appeal_id=a.pk, user=w.finance_officer, reason="x"),
    ),
    "rate with a wrong access code": (
        S.REPLIED,
        lambda w, a: services.appeal_rate(appeal_id=a.pk, access_code="WRONG999", level=5, resolved=True),
    ),
    "withdraw with a wrong access code": (
        S.HANDLING,
        lambda w, a: services.appeal_withdraw(appeal_id=a.pk, access_code="WRONG999"),
    ),
}


@pytest.mark.parametrize("case", list(DENIALS))
def test_wrong_person_is_refused(world, case):
    state, attempt = DENIALS[case]
    appeal = make(state, world)
    events_before = AppealEvent.objects.filter(appeal=appeal).count()
    with pytest.raises(services.NotAllowed) as excinfo:
        attempt(world, appeal)
    assert excinfo.value.status == 403
    assert Appeal.objects.get(pk=appeal.pk).state == state
    assert AppealEvent.objects.filter(appeal=appeal).count() == events_before


def test_second_officer_of_the_bureau_cannot_reply_for_the_assigned_officer(world):
    appeal = make(S.HANDLING, world)
    colleague = factories.staff_user("officer", world.hrss)
    with pytest.raises(services.NotAllowed):
        services.appeal_submit_reply(appeal_id=appeal.pk, user=colleague, reply="x")
    # The bureau lead may act for any officer of the bureau.
    assert services.appeal_submit_reply(appeal_id=appeal.pk, user=world.lead, reply="x").state == S.REPLIED


def test_bad_rating_reopens_with_a_new_deadline_and_counts_the_round(world):
    appeal = make(S.REPLIED, world)
    reopened = services.appeal_rate(
        appeal_id=appeal.pk, access_code=world.codes[appeal.pk], level=RatingLevel.VERY_DISSATISFIED, resolved=False
    )
    assert reopened.state == S.HANDLING
    assert reopened.reopen_count == 1
    assert reopened.reply_due > timezone.now()
    again = services.appeal_submit_reply(appeal_id=appeal.pk, user=world.officer, reply="重新办理后的答复")
    assert again.state == S.REPLIED
    closed = services.appeal_rate(appeal_id=appeal.pk, access_code=world.codes[appeal.pk], level=5, resolved=True)
    assert closed.state == S.CLOSED
    assert list(closed.ratings.values_list("round", "level")) == [(0, 1), (1, 5)]


def test_rating_the_same_reply_twice_is_refused(world):
    appeal = make(S.REPLIED, world)
    services.appeal_rate(appeal_id=appeal.pk, access_code=world.codes[appeal.pk], level=2, resolved=False)
    services.appeal_submit_reply(appeal_id=appeal.pk, user=world.officer, reply="第二次答复")
    services.appeal_rate(appeal_id=appeal.pk, access_code=world.codes[appeal.pk], level=4, resolved=True)
    with pytest.raises(services.StateConflict):
        services.appeal_rate(appeal_id=appeal.pk, access_code=world.codes[appeal.pk], level=1, resolved=False)


def test_return_is_refused_after_the_window_closes(world):
    import time_machine

    appeal = make(S.DISPATCHED, world)
    too_late = appeal.return_due + timezone.timedelta(minutes=1)
    with time_machine.travel(too_late, tick=False), pytest.raises(services.StateConflict) as excinfo:
        services.appeal_return(appeal_id=appeal.pk, user=world.officer, reason="非本单位职责")
    assert excinfo.value.code == "return_window"


def test_stale_version_gets_a_conflict_not_a_lost_update(world):
    appeal = make(S.DISPATCHED, world)
    shown_version = appeal.version
    services.appeal_return(appeal_id=appeal.pk, user=world.officer, reason="非本单位职责")
    services.appeal_arbitrate_return(
        appeal_id=appeal.pk, user=world.dispatcher, bureau_id=world.hrss.pk, ruling="应由人社局办理"
    )
    # The state is dispatched again, but the form was rendered before all that happened.
    with pytest.raises(services.StateConflict) as excinfo:
        services.appeal_sign_for(appeal_id=appeal.pk, user=world.officer, expected_version=shown_version)
    assert excinfo.value.code == "stale"


def test_required_reasons_are_enforced_before_anything_changes(world):
    appeal = make(S.TRIAGE, world)
    with pytest.raises(services.InvalidInput):
        services.appeal_reject(appeal_id=appeal.pk, user=world.dispatcher, reason="   ")
    dispatched = make(S.DISPATCHED, world)
    with pytest.raises(services.InvalidInput):
        services.appeal_return(appeal_id=dispatched.pk, user=world.officer, reason="")
    assert Appeal.objects.get(pk=appeal.pk).state == S.TRIAGE
    assert Appeal.objects.get(pk=dispatched.pk).state == S.DISPATCHED


def test_merge_into_itself_is_refused(world):
    appeal = make(S.TRIAGE, world)
    with pytest.raises(services.InvalidInput):
        services.appeal_merge(appeal_id=appeal.pk, user=world.dispatcher, master_id=appeal.pk)


def test_unrated_reply_closes_as_default_rating_only_after_the_period(world, settings):
    import time_machine

    appeal = make(S.REPLIED, world)
    assert services.appeal_close_unrated(appeal_id=appeal.pk) is None
    later = appeal.replied_at + timezone.timedelta(days=settings.HUYING["DEFAULT_RATING_DAYS"], minutes=1)
    with time_machine.travel(later, tick=False):
        closed = services.appeal_close_unrated(appeal_id=appeal.pk)
        assert closed.state == S.CLOSED
        rating = closed.ratings.get()
        assert (rating.level, rating.is_default) == (RatingLevel.BASICALLY_SATISFIED, True)
        # Idempotent: a second run does nothing.
        assert services.appeal_close_unrated(appeal_id=appeal.pk) is None


def test_fsm_field_cannot_be_assigned_directly(world):
    appeal = make(S.DISPATCHED, world)
    with pytest.raises(AttributeError):
        appeal.state = S.CLOSED


def test_extension_request_and_approval_move_the_deadline_within_limits(world):
    from routing import deadlines

    appeal = make(S.HANDLING, world)
    due = appeal.reply_due
    extension = services.extension_request(
        appeal_id=appeal.pk, user=world.officer, reason="需调取银行流水", working_days=3
    )
    with pytest.raises(services.StateConflict):
        services.extension_request(appeal_id=appeal.pk, user=world.officer, reason="再次申请", working_days=2)
    with pytest.raises(services.NotAllowed):
        services.extension_decide(extension_id=extension.pk, user=world.officer, approve=True)
    decided = services.extension_decide(extension_id=extension.pk, user=world.dispatcher, approve=True, note="同意")
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.reply_due == decided.new_due == deadlines.extended_deadline(due=due, working_days=3)
    assert fresh.extension_count == 1
    with pytest.raises(services.InvalidInput):
        services.extension_request(
            appeal_id=appeal.pk,
            user=world.officer,
            reason="太长",
            working_days=deadlines.MAX_EXTENSION_WORKING_DAYS + 1,
        )
    for _ in range(deadlines.MAX_EXTENSIONS - 1):
        ext = services.extension_request(appeal_id=appeal.pk, user=world.officer, reason="继续协调", working_days=1)
        services.extension_decide(extension_id=ext.pk, user=world.dispatcher, approve=True)
    with pytest.raises(services.StateConflict) as excinfo:
        services.extension_request(appeal_id=appeal.pk, user=world.officer, reason="超过上限", working_days=1)
    assert excinfo.value.code == "limit"
