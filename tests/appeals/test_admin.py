"""Django admin: every page loads, lists are query-bounded, actions go through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals import services
from appeals.models import Appeal, AppealEvent, AppealState, Extension
from tests import factories

CHANGELIST = "admin:appeals_appeal_changelist"


@pytest.fixture
def superuser(db):
    return factories.staff_user("admin", None, username="root")


def _admin_staff(role: str, bureau=None):
    """A staff user of ``role`` who may also use the admin's appeal list (view/change permissions)."""
    user = factories.staff_user(role, bureau)
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="appeals", codename__in=["view_appeal", "change_appeal", "view_extension"]
        )
    )
    return type(user).objects.get(pk=user.pk)


def _triage(_city=None):
    """An appeal in the triage queue: filed in a region that has no bureaus, so no rule can route it."""
    appeal = factories.submit(region=factories.RegionFactory(), category=factories.category("other")).appeal
    assert appeal.state == AppealState.TRIAGE
    return appeal


def _post_action(client, action: str, appeals, **data):
    payload = {"action": action, ACTION_CHECKBOX_NAME: [a.pk for a in appeals], **data}
    return client.post(reverse(CHANGELIST), payload, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_every_admin_page_loads(client, superuser, hrss, officer):
    appeal = factories.submit(region=hrss.region).appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    client.force_login(superuser)
    assert client.get(reverse("admin:index")).status_code == 200
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if model_admin.has_add_permission(response.wsgi_request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(add).status_code == 200, add
        first = model._default_manager.first()
        if first is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def test_appeal_changelist_query_count_does_not_grow_with_rows(client, superuser, hrss, officer):
    for _ in range(3):
        appeal = factories.submit(region=hrss.region).appeal
        services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    client.force_login(superuser)
    client.get(reverse(CHANGELIST))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(CHANGELIST)).status_code == 200
    for _ in range(12):
        appeal = factories.submit(region=hrss.region).appeal
        services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert len(many) == len(few) <= 25
    assert response.content.decode().count("已派单") + response.content.decode().count("办理中") >= 15


def test_event_changelist_query_count_is_bounded(client, superuser, hrss):
    for _ in range(5):
        factories.submit(region=hrss.region)
    client.force_login(superuser)
    url = reverse("admin:appeals_appealevent_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= 15


def test_audit_events_are_read_only_even_for_superusers(client, superuser, hrss):
    appeal = factories.submit(region=hrss.region).appeal
    event = appeal.events.first()
    client.force_login(superuser)
    assert client.get(reverse("admin:appeals_appealevent_add")).status_code == 403
    change = reverse("admin:appeals_appealevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert event.hash in html and 'name="_save"' not in html  # chain fields shown, nothing to save
    assert client.post(change, {"reason": "改过"}).status_code == 403
    delete = reverse("admin:appeals_appealevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    listing = client.get(reverse("admin:appeals_appealevent_changelist")).content.decode()
    assert "delete_selected" not in listing
    assert AppealEvent.objects.get(pk=event.pk).reason == event.reason


@pytest.mark.parametrize("model", ["rating", "piiaccesslog", "appealevent"])
def test_record_models_have_no_add_change_delete(rf, superuser, model):
    from django.apps import apps

    model_admin = admin.site._registry[apps.get_model("appeals", model)]
    request = rf.get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_state_is_read_only_and_appeals_cannot_be_added(client, superuser, hrss):
    appeal = factories.submit(region=hrss.region).appeal
    client.force_login(superuser)
    change = reverse("admin:appeals_appeal_change", args=[appeal.pk])
    html = client.get(change).content.decode()
    assert 'name="state"' not in html and "已派单" in html
    assert client.post(change, {"state": "closed", "title": "x"}).status_code == 403
    assert client.get(reverse("admin:appeals_appeal_add")).status_code == 403
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DISPATCHED


def test_dispatch_action_asks_for_a_bureau_then_goes_through_the_service(client, city, hrss, dispatch_centre):
    dispatcher = _admin_staff("dispatcher", dispatch_centre)
    appeals = [_triage(city), _triage(city)]
    client.force_login(dispatcher)
    form = _post_action(client, "action_dispatch", appeals)
    assert form.status_code == 200
    assert "admin/appeals/transition_form.html" in [t.name for t in form.templates]
    assert appeals[0].tracking_number in form.content.decode()
    done = _post_action(client, "action_dispatch", appeals, apply="1", bureau=hrss.pk, note="人社局职责")
    assert any("派单成功 2 件" in m for m in _messages(done))
    for appeal in appeals:
        appeal.refresh_from_db()
        assert appeal.state == AppealState.DISPATCHED and appeal.bureau == hrss and appeal.sign_for_due
        last = appeal.events.order_by("-seq").first()
        assert (last.kind, last.actor_id, last.reason) == ("dispatched", dispatcher.pk, "人社局职责")


def test_reject_needs_a_reason_and_reports_conflicts_per_appeal(client, city, hrss, dispatch_centre):
    dispatcher = _admin_staff("dispatcher", dispatch_centre)
    triaged = _triage(city)
    dispatched = factories.submit(region=hrss.region).appeal
    client.force_login(dispatcher)
    empty = _post_action(client, "action_reject", [triaged, dispatched], apply="1", reason="  ")
    assert "请填写理由" in empty.content.decode()
    triaged.refresh_from_db()
    assert triaged.state == AppealState.TRIAGE
    done = _post_action(
        client, "action_reject", [triaged, dispatched], apply="1", reason="属于诉讼事项，请通过法院解决。"
    )
    messages = _messages(done)
    assert any("不予受理成功 1 件" in m and triaged.tracking_number in m for m in messages)
    assert any(m.startswith(dispatched.tracking_number) and "不能不予受理" in m for m in messages)
    triaged.refresh_from_db()
    dispatched.refresh_from_db()
    assert triaged.state == AppealState.REJECTED and triaged.rejection_reason.startswith("属于诉讼")
    assert dispatched.state == AppealState.DISPATCHED


def test_merge_action_checks_the_master_number(client, city, dispatch_centre):
    dispatcher = _admin_staff("dispatcher", dispatch_centre)
    master, duplicate = _triage(city), _triage(city)
    client.force_login(dispatcher)
    wrong = _post_action(client, "action_merge", [duplicate], apply="1", master="20990101999999")
    assert "找不到受理编号" in wrong.content.decode()
    _post_action(client, "action_merge", [duplicate], apply="1", master=master.tracking_number)
    duplicate.refresh_from_db()
    assert duplicate.state == AppealState.MERGED and duplicate.merged_into == master


def test_sign_for_respects_bureau_membership(client, city, hrss, finance):
    own = _admin_staff("officer", hrss)
    other = _admin_staff("officer", finance)
    appeal = factories.submit(region=hrss.region).appeal
    client.force_login(other)
    denied = _post_action(client, "action_sign_for", [appeal])
    assert any(m.startswith(appeal.tracking_number) and "没有权限" in m for m in _messages(denied))
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DISPATCHED
    client.force_login(own)
    done = _post_action(client, "action_sign_for", [appeal])
    assert any("签收成功 1 件" in m for m in _messages(done))
    appeal.refresh_from_db()
    assert appeal.state == AppealState.HANDLING and appeal.officer == own


def test_actions_are_offered_by_role(rf, city, hrss, dispatch_centre):
    model_admin = admin.site._registry[Appeal]
    request = rf.get("/")
    request.user = _admin_staff("officer", hrss)
    offered = set(model_admin.get_actions(request))
    assert "action_sign_for" in offered and "action_return" in offered
    assert not offered & {"action_dispatch", "action_reject", "action_merge", "action_approve_reply"}
    request.user = _admin_staff("dispatcher", dispatch_centre)
    offered = set(model_admin.get_actions(request))
    assert {"action_dispatch", "action_reject", "action_merge", "action_arbitrate"} <= offered
    assert "action_sign_for" not in offered and "delete_selected" not in offered


def test_superuser_without_a_bureau_cannot_sign_for(client, superuser, hrss):
    appeal = factories.submit(region=hrss.region).appeal
    client.force_login(superuser)
    response = _post_action(client, "action_sign_for", [appeal])
    assert any("没有权限" in m for m in _messages(response))
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DISPATCHED


def test_extension_can_be_approved_in_the_admin(client, hrss, officer, dispatch_centre):
    dispatcher = _admin_staff("dispatcher", dispatch_centre)
    appeal = factories.submit(region=hrss.region).appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    extension = services.extension_request(appeal_id=appeal.pk, user=officer, reason="需要现场核查", working_days=3)
    client.force_login(dispatcher)
    url = reverse("admin:appeals_extension_changelist")
    response = client.post(
        url,
        {"action": "action_approve", ACTION_CHECKBOX_NAME: [extension.pk], "apply": "1", "note": "同意"},
        follow=True,
    )
    assert any("批准延期成功 1 件" in m for m in _messages(response))
    extension.refresh_from_db()
    assert extension.status == Extension.Status.APPROVED and extension.decided_by == dispatcher


def test_user_admin_has_the_staff_profile_inline(client, superuser, officer):
    client.force_login(superuser)
    html = client.get(reverse("admin:auth_user_change", args=[officer.pk])).content.decode()
    assert "staff_profile-0-bureau" in html


def test_appeal_page_shows_the_routing_explanation_and_event_labels_in_words(client, superuser, hrss):
    appeal = factories.submit(region=hrss.region).appeal
    client.force_login(superuser)
    html = client.get(f"/admin/appeals/appeal/{appeal.pk}/change/").content.decode()
    assert "分拨说明" in html and ("按分拨规则自动派单" in html or "按类别的默认承办单位自动派单" in html)
    assert "&quot;reason&quot;" not in html and '"reason":' not in html
    assert "提交诉求" in html  # the events inline names the kind in words
    events = client.get(f"/admin/appeals/appealevent/?q={appeal.tracking_number}").content.decode()
    assert "提交诉求 (submitted)" in events
