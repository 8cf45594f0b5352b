"""Dispatcher console (triage, one-click routing, merge, reject, returns, extensions) and the overdue board."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from appeals import services
from appeals.models import Appeal, AppealState, Extension
from tests import factories


def test_triage_row_suggests_the_bureau_and_routes_in_one_click(login, dispatcher, triaged, hrss):
    Appeal.objects.filter(pk=triaged.pk).update(
        suggested_category=factories.category("employment"), category_confidence=0.83
    )
    client = login(dispatcher)
    response = client.get("/staff/dispatch/")
    row = response.context["triage_rows"][0]
    assert row["appeal"].pk == triaged.pk and row["suggested"] == hrss
    body = response.content.decode()
    assert "0.83" in body and f"派至{hrss.name}" in body
    triaged.refresh_from_db()
    response = client.post(
        f"/staff/appeals/{triaged.pk}/dispatch/",
        {"back": "dispatch", "dispatch-expected_version": triaged.version, "dispatch-bureau": hrss.pk},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/dispatch/"
    triaged.refresh_from_db()
    assert triaged.state == AppealState.DISPATCHED and triaged.bureau == hrss


def test_second_dispatcher_with_stale_row_gets_conflict(login, dispatcher, dispatch_centre, triaged, hrss, finance):
    other = factories.staff_user("dispatcher", dispatch_centre)
    version = triaged.version
    login(dispatcher).post(
        f"/staff/appeals/{triaged.pk}/dispatch/", {"dispatch-expected_version": version, "dispatch-bureau": hrss.pk}
    )
    response = login(other).post(
        f"/staff/appeals/{triaged.pk}/dispatch/",
        {"dispatch-expected_version": version, "dispatch-bureau": finance.pk},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 409
    triaged.refresh_from_db()
    assert triaged.bureau == hrss


def test_duplicates_are_suggested_and_merge_works(login, dispatcher, city):
    master = factories.submit(region=city, category=factories.category("other"), title="园区道路长期积水").appeal
    dup = factories.submit(region=city, category=factories.category("other"), title="园区道路积水严重").appeal
    unrelated = factories.submit(region=city, category=factories.category("other"), title="出口退税太慢").appeal
    client = login(dispatcher)
    rows = {r["appeal"].pk: r for r in client.get("/staff/dispatch/").context["triage_rows"]}
    assert [d.pk for d in rows[dup.pk]["duplicates"]] == [master.pk]
    assert unrelated.pk not in [d.pk for d in rows[dup.pk]["duplicates"]]
    response = client.post(
        f"/staff/appeals/{dup.pk}/merge/",
        {"back": "dispatch", "merge-expected_version": dup.version, "merge-master": master.pk},
    )
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.state == AppealState.MERGED and dup.merged_into == master


def test_reject_needs_a_reason(login, dispatcher, triaged):
    client = login(dispatcher)
    response = client.post(
        f"/staff/appeals/{triaged.pk}/reject/", {"reject-expected_version": triaged.version, "reject-reason": ""}
    )
    assert response.status_code == 400
    response = client.post(
        f"/staff/appeals/{triaged.pk}/reject/",
        {"reject-expected_version": triaged.version, "reject-reason": "属于诉讼事项，请通过法院渠道解决。"},
    )
    assert response.status_code == 302
    triaged.refresh_from_db()
    assert triaged.state == AppealState.REJECTED


def test_returned_appeal_is_arbitrated(login, dispatcher, officer, dispatched, finance):
    services.appeal_return(appeal_id=dispatched.pk, user=officer, reason="属于金融局职责")
    dispatched.refresh_from_db()
    client = login(dispatcher)
    rows = client.get("/staff/dispatch/").context["returned_rows"]
    assert rows[0]["appeal"].pk == dispatched.pk and rows[0]["reason"] == "属于金融局职责"
    response = client.post(
        f"/staff/appeals/{dispatched.pk}/arbitrate/",
        {
            "back": "dispatch",
            "arbitrate-expected_version": dispatched.version,
            "arbitrate-bureau": finance.pk,
            "arbitrate-note": "同意改派",
        },
    )
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == AppealState.DISPATCHED and dispatched.bureau == finance


def test_extension_requests_are_listed_and_refusal_needs_a_note(login, dispatcher, officer, handling):
    extension = services.extension_request(appeal_id=handling.pk, user=officer, reason="需现场核查", working_days=3)
    client = login(dispatcher)
    assert [e.pk for e in client.get("/staff/dispatch/").context["extensions"]] == [extension.pk]
    url = f"/staff/appeals/{handling.pk}/decide_extension/"
    assert client.post(url, {"decide_extension-decision": "refuse"}).status_code == 400
    response = client.post(
        url, {"back": "dispatch", "decide_extension-decision": "refuse", "decide_extension-note": "理由不足"}
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == Extension.Status.REFUSED


def test_overdue_board_across_bureaus(login, supervisor, officer, finance_officer, hrss, finance, city):
    now = timezone.now()
    late = factories.submit(region=city, title="人社超期").appeal
    near = factories.submit(region=city, category=factories.category("financing"), title="金融临期").appeal
    far = factories.submit(region=city, title="时间充裕").appeal
    Appeal.objects.filter(pk=late.pk).update(sign_for_due=now - timedelta(hours=5), urged_at=now, supervised_at=now)
    Appeal.objects.filter(pk=near.pk).update(sign_for_due=now + timedelta(hours=2), warned_at=now)
    Appeal.objects.filter(pk=far.pk).update(sign_for_due=now + timedelta(days=4))
    client = login(supervisor)
    response = client.get("/staff/overdue/")
    assert [r.appeal.pk for r in response.context["rows"]] == [late.pk, near.pk]
    assert [r.appeal.pk for r in client.get("/staff/overdue/?status=overdue").context["rows"]] == [late.pk]
    assert [r.appeal.pk for r in client.get("/staff/overdue/?status=near").context["rows"]] == [near.pk]
    assert [r.appeal.pk for r in client.get("/staff/overdue/?status=supervised").context["rows"]] == [late.pk]
    assert [r.appeal.pk for r in client.get(f"/staff/overdue/?bureau={finance.pk}").context["rows"]] == [near.pk]
    body = response.content.decode()
    assert "已督办" in body and "已预警" in body and "due--red" in body
    fragment = client.get("/staff/overdue/table/")
    assert "<html" not in fragment.content.decode() and late.tracking_number in fragment.content.decode()
