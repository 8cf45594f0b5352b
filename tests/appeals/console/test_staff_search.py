"""诉求查询: every role searches within its scope, in every state, with masked phone numbers."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import services
from appeals.models import AppealState, RatingLevel
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/staff/appeals/"


def _replied(officer, region, **kw):
    submitted = factories.submit(region=region, **kw)
    services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=submitted.appeal.pk, user=officer, reply="已办理，详见答复。")
    return submitted


def _closed(officer, region, **kw):
    submitted = _replied(officer, region, **kw)
    services.appeal_rate(
        appeal_id=submitted.appeal.pk, access_code=submitted.access_code, level=RatingLevel.SATISFIED, resolved=True
    )
    return submitted


def _numbers(response) -> set[str]:
    return {row.appeal.tracking_number for row in (item["row"] for item in response.context["rows"])}


def test_url_is_named_and_linked_from_navigation(login, officer, dispatcher, supervisor):
    assert reverse("console:search") == URL
    for user in (officer, dispatcher, supervisor):
        page = login(user).get("/staff/overdue/" if user is not officer else "/staff/")
        assert f'href="{URL}"' in page.content.decode(), user


def test_officer_finds_replied_and_closed_appeals_of_own_bureau(login, officer, hrss):
    replied = _replied(officer, hrss.region, title="厂房消防验收咨询").appeal
    closed = _closed(officer, hrss.region, title="用工补贴发放").appeal
    client = login(officer)
    page = client.get(URL)
    assert page.status_code == 200
    assert {replied.tracking_number, closed.tracking_number} <= _numbers(page)
    assert client.get(URL, {"state": AppealState.CLOSED}).context["rows"][0]["row"].appeal == closed
    assert _numbers(client.get(URL, {"quick": "replied_by_me"})) == {replied.tracking_number, closed.tracking_number}
    assert _numbers(client.get(URL, {"quick": "closed"})) == {closed.tracking_number}
    html = client.get(URL).content.decode()
    assert "我已答复的" in html and "已办结的" in html
    assert "<caption>" in html and 'scope="col"' in html


@pytest.mark.parametrize("field", ["tracking_number", "title", "description", "company", "credit_code", "contact"])
def test_query_matches_each_field(login, officer, hrss, field):
    submitted = factories.submit(
        region=hrss.region,
        title="叉车年检排队太久",
        description="特种设备检验排期已到三个月后，影响生产。",
        enterprise_name="佛山市南海区鸿运五金制品有限公司",
        credit_code="91440605MA4UJ8XK2Q",
        contact_name="欧阳明",
        contact_phone="+8613912345678",
    )
    other = factories.submit(region=hrss.region, title="招工困难")
    services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    query = {
        "tracking_number": submitted.appeal.tracking_number,
        "title": "叉车年检",
        "description": "特种设备",
        "company": "鸿运五金",
        "credit_code": "91440605MA4UJ8XK2Q",
        "contact": "欧阳明 13912345678",
    }[field]
    found = _numbers(login(officer).get(URL, {"q": query}))
    assert submitted.appeal.tracking_number in found
    assert other.appeal.tracking_number not in found


def test_phone_is_masked_in_results(login, officer, hrss):
    factories.submit(region=hrss.region, contact_phone="+8613912345678")
    html = login(officer).get(URL).content.decode()
    assert "13912345678" not in html
    assert "139 **** 5678" in html


def test_officer_cannot_find_another_bureaus_appeal(login, officer, finance, finance_officer, hrss):
    theirs = _closed(finance_officer, finance.region, category=factories.category("financing"), title="贷款贴息").appeal
    assert theirs.bureau_id == finance.pk
    client = login(officer)
    for params in (
        {},
        {"q": theirs.tracking_number},
        {"q": "贷款贴息"},
        {"state": "closed"},
        {"quick": "closed"},
        {"bureau": finance.pk},  # ignored: officers have no bureau filter
    ):
        assert theirs.tracking_number not in _numbers(client.get(URL, params)), params
    assert "bureau" not in client.get(URL).context["form"].fields


def test_dispatcher_and_supervisor_search_all_bureaus_and_filter_by_bureau(
    login, dispatcher, supervisor, officer, finance_officer, hrss, finance
):
    ours = _replied(officer, hrss.region, title="社保补缴").appeal
    theirs = _replied(
        finance_officer, finance.region, category=factories.category("financing"), title="贷款贴息"
    ).appeal
    for user in (dispatcher, supervisor):
        client = login(user)
        assert {ours.tracking_number, theirs.tracking_number} <= _numbers(client.get(URL))
        assert _numbers(client.get(URL, {"bureau": finance.pk})) == {theirs.tracking_number}
        assert _numbers(client.get(URL, {"bureau": finance.pk, "q": "社保"})) == set()


def test_withdrawn_and_date_filters(login, officer, hrss):
    submitted = factories.submit(region=hrss.region, title="撤回的诉求")
    services.appeal_withdraw(appeal_id=submitted.appeal.pk, access_code=submitted.access_code)
    client = login(officer)
    assert _numbers(client.get(URL, {"state": "withdrawn"})) == {submitted.appeal.tracking_number}
    day = timezone.localdate(submitted.appeal.submitted_at)  # the filter is in Beijing time, not UTC
    assert submitted.appeal.tracking_number in _numbers(client.get(URL, {"date_from": day, "date_to": day}))
    bad = client.get(URL, {"date_from": "2026-12-31", "date_to": "2026-01-01"})
    assert bad.status_code == 200
    assert "结束日期早于开始日期" in bad.content.decode()


def test_pagination(login, officer, hrss):
    for n in range(27):
        factories.submit(region=hrss.region, title=f"批量诉求{n}")
    client = login(officer)
    first, second = client.get(URL), client.get(URL, {"page": 2})
    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 2
    assert 'rel="next"' in first.content.decode()


def test_requires_a_console_role(client, django_user_model):
    assert client.get(URL).status_code == 302
    user = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_reopened_appeal_shows_the_rating_that_reopened_it(login, officer, hrss):
    submitted = _replied(officer, hrss.region)
    services.appeal_rate(
        appeal_id=submitted.appeal.pk,
        access_code=submitted.access_code,
        level=RatingLevel.DISSATISFIED,
        resolved=False,
        comment="补贴还是没有到账，电话也没人接。",
    )
    html = login(officer).get(f"/staff/appeals/{submitted.appeal.pk}/").content.decode()
    assert 'id="reopening-rating"' in html
    assert "不满意" in html and "补贴还是没有到账，电话也没人接。" in html


def test_appeal_not_reopened_shows_no_rating_notice(login, officer, handling):
    html = login(officer).get(f"/staff/appeals/{handling.pk}/").content.decode()
    assert 'id="reopening-rating"' not in html


def test_search_page_in_english(login, officer, hrss):
    submitted = _replied(officer, hrss.region)
    services.appeal_rate(
        appeal_id=submitted.appeal.pk,
        access_code=submitted.access_code,
        level=RatingLevel.VERY_DISSATISFIED,
        resolved=False,
        comment="没有解决。",
    )
    client = login(officer)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Search appeals" in html and "Replied by me" in html and "All states" in html
    assert "诉求查询" not in html
    page = client.get(f"/staff/appeals/{submitted.appeal.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Re-handling (time 1): the business&#x27;s rating" in page or "Re-handling (time 1)" in page
    assert "Reply promised to the business by" in page
