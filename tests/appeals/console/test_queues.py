"""Bureau console queues: scoping, filters, sort, search, pagination, the live fragment, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appeals import services
from appeals.models import Appeal
from tests import factories


def numbers(response) -> list[str]:
    return [row.appeal.tracking_number for row in response.context["rows"]]


def test_sign_for_queue_lists_only_my_bureaus_dispatched_appeals(login, officer, dispatched, finance, city):
    other = factories.submit(region=city, category=factories.category("financing")).appeal
    assert other.bureau == finance
    response = login(officer).get("/staff/")
    assert response.status_code == 200
    assert numbers(response) == [dispatched.tracking_number]
    body = response.content.decode()
    assert dispatched.tracking_number in body
    assert other.tracking_number not in body


def test_queues_split_by_state_and_officer(login, officer, lead, hrss, handling, dispatched):
    client = login(officer)
    assert numbers(client.get("/staff/?queue=mine")) == [handling.tracking_number]
    assert numbers(client.get("/staff/?queue=bureau")) == [handling.tracking_number]
    assert numbers(client.get("/staff/?queue=sign_for")) == [dispatched.tracking_number]
    # Another officer of the same bureau sees it in the bureau queue but not in "mine".
    colleague = factories.staff_user("officer", hrss)
    assert numbers(login(colleague).get("/staff/?queue=mine")) == []
    assert numbers(login(colleague).get("/staff/?queue=bureau")) == [handling.tracking_number]


def test_returned_and_review_queues(login, officer, lead, hrss, dispatched, handling):
    hrss.requires_review = True
    hrss.save()
    services.appeal_return(appeal_id=dispatched.pk, user=officer, reason="属于税务局职责")
    services.appeal_submit_reply(appeal_id=handling.pk, user=officer, reply="拟答复")
    assert numbers(login(officer).get("/staff/?queue=returned")) == [dispatched.tracking_number]
    assert numbers(login(lead).get("/staff/?queue=review")) == [handling.tracking_number]


def test_cohandling_requests_appear_for_the_invited_bureau(login, finance_officer, finance, handling, officer):
    from appeals.models import CoHandling

    CoHandling.objects.create(appeal=handling, bureau=finance, request="请提供贷款贴息政策意见", invited_by=officer)
    assert numbers(login(finance_officer).get("/staff/?queue=cohandling")) == [handling.tracking_number]
    # and they may open it (co-handled appeals are visible)
    assert login(finance_officer).get(f"/staff/appeals/{handling.pk}/").status_code == 200


def test_filters_category_urgency_date_and_text(login, officer, hrss):
    region = hrss.region
    a = factories.submit(region=region, title="招工困难", urgency="urgent", urgency_reason="订单").appeal
    b = factories.submit(region=region, title="社保缴费基数", category=factories.category("social_insurance")).appeal
    c = factories.submit(region=region, title="技能培训补贴", description="希望了解招工补贴申领").appeal
    client = login(officer)
    social = factories.category("social_insurance").pk
    assert numbers(client.get(f"/staff/?category={social}")) == [b.tracking_number]
    assert numbers(client.get("/staff/?urgency=urgent")) == [a.tracking_number]
    assert sorted(numbers(client.get("/staff/?q=招工"))) == sorted([a.tracking_number, c.tracking_number])
    assert numbers(client.get("/staff/?q=招工 补贴")) == [c.tracking_number]
    today = timezone.localdate()
    assert len(numbers(client.get(f"/staff/?date_from={today}&date_to={today}"))) == 3
    assert numbers(client.get(f"/staff/?date_from={today + timedelta(days=1)}")) == []
    bad = client.get(f"/staff/?date_from={today}&date_to={today - timedelta(days=3)}")
    assert "结束日期早于开始日期" in bad.content.decode()


def test_overdue_filter_and_due_colours(login, officer, hrss):
    region = hrss.region
    late = factories.submit(region=region, title="已超期的").appeal
    soon = factories.submit(region=region, title="快到期的").appeal
    fine = factories.submit(region=region, title="还早的").appeal
    now = timezone.now()
    Appeal.objects.filter(pk=late.pk).update(sign_for_due=now - timedelta(hours=1))
    Appeal.objects.filter(pk=soon.pk).update(sign_for_due=now + timedelta(hours=3))
    Appeal.objects.filter(pk=fine.pk).update(sign_for_due=now + timedelta(days=3))
    client = login(officer)
    assert numbers(client.get("/staff/?overdue=on")) == [late.tracking_number]
    response = client.get("/staff/")
    assert numbers(response) == [late.tracking_number, soon.tracking_number, fine.tracking_number]  # due first
    statuses = {row.appeal.pk: row.due_status for row in response.context["rows"]}
    assert statuses == {late.pk: "red", soon.pk: "amber", fine.pk: "ok"}
    body = response.content.decode()
    assert "due--red" in body and "due--amber" in body and "已超期" in body
    assert numbers(client.get("/staff/?sort=-due"))[0] == fine.tracking_number


def test_sort_by_submission_and_pagination(login, officer, hrss):
    appeals = [factories.submit(region=hrss.region, title=f"诉求{i}").appeal for i in range(27)]
    client = login(officer)
    first = client.get("/staff/?sort=-submitted")
    assert len(first.context["rows"]) == 25
    assert numbers(first)[0] == appeals[-1].tracking_number
    second = client.get("/staff/?sort=-submitted&page=2")
    assert numbers(second) == [appeals[1].tracking_number, appeals[0].tracking_number]
    assert "sort=-submitted&amp;page=2" in first.content.decode()
    # Column headers sort too, keeping the other filters.
    headed = client.get("/staff/?queue=sign_for&sort=due").content.decode()
    assert 'href="?queue=sign_for&amp;sort=-due"' in headed and 'aria-sort="ascending"' in headed


def test_queue_fragment_returns_only_the_table(login, officer, dispatched):
    response = login(officer).get("/staff/queue/?queue=sign_for")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<tbody data-queue-body>" in body
    assert dispatched.tracking_number in body
    assert "<html" not in body


def test_counts_endpoint(login, officer, dispatched, handling):
    data = login(officer).get("/staff/counts/").json()
    assert data["nav"]["bureau-open"] == 2
    assert data["queues"]["sign_for"] == 1
    assert data["queues"]["mine"] == 1


@pytest.mark.parametrize("url", ["/staff/?queue=sign_for", "/staff/queue/?queue=sign_for&q=招工"])
def test_queue_query_count_does_not_grow_with_rows(login, officer, hrss, url):
    client = login(officer)
    factories.submit(region=hrss.region)
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        factories.submit(region=hrss.region)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["rows"]) == 13
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
    assert len(many.captured_queries) <= 16


def test_dispatch_and_overdue_boards_query_counts(login, dispatcher, city, hrss):
    client = login(dispatcher)
    factories.submit(region=city, category=factories.category("other"))
    client.get("/staff/dispatch/")
    with CaptureQueriesContext(connection) as few:
        client.get("/staff/dispatch/")
    for _ in range(8):
        factories.submit(region=city, category=factories.category("other"))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/staff/dispatch/")
    assert len(response.context["triage_rows"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_sign_for_straight_from_the_queue(login, officer, dispatched):
    client = login(officer)
    body = client.get("/staff/").content.decode()
    action = f'action="/staff/appeals/{dispatched.pk}/sign_for/"'
    assert action in body
    response = client.post(
        f"/staff/appeals/{dispatched.pk}/sign_for/", {"sign_for-expected_version": dispatched.version}
    )
    assert response["Location"] == f"/staff/appeals/{dispatched.pk}/"
    assert action not in client.get("/staff/?queue=mine").content.decode()
