"""Admin: roles from a list (groups kept in step), API keys created and revoked, PII masked and logged."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from appeals.api.models import ApiClient
from appeals.models import PiiAccessLog
from routing.models import StaffProfile
from routing.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return factories.staff_user("admin", None, username="root")


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    return client


# --- Roles -------------------------------------------------------------------------------------------


def test_role_is_a_list_with_meanings(admin_client, officer):
    html = admin_client.get(reverse("admin:routing_staffprofile_change", args=[officer.staff_profile.pk])).content
    text = html.decode()
    assert 'type="radio"' in text and 'value="officer"' in text
    assert "签收、办理、答复本单位的诉求" in text  # the officer role's meaning
    assert "审核答复" in text  # the lead's


def test_free_text_role_is_refused(admin_client, officer, hrss):
    url = reverse("admin:routing_staffprofile_change", args=[officer.staff_profile.pk])
    response = admin_client.post(url, {"display_name": "王五", "bureau": hrss.pk, "role": "承办人", "phone": ""})
    assert response.status_code == 200  # the form again, with an error
    officer.staff_profile.refresh_from_db()
    assert officer.staff_profile.role == Role.OFFICER


def test_choosing_a_role_puts_the_user_in_its_group_and_lets_them_log_in(admin_client, hrss):
    user = get_user_model().objects.create_user("newstaff", password="correct-horse-battery")
    response = admin_client.post(
        reverse("admin:routing_staffprofile_add"),
        {"user": user.pk, "display_name": "新同事", "bureau": hrss.pk, "role": Role.OFFICER, "phone": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(user.groups.values_list("name", flat=True)) == ["officer"]
    fresh = get_user_model().objects.get(pk=user.pk)
    assert fresh.has_perm("appeals.handle_appeal")
    login = Client().post("/staff/login/", {"username": "newstaff", "password": "correct-horse-battery"})
    assert login.status_code == 302 and "还没有分配工作角色" not in login.content.decode()
    # Changing the role moves the user to the other group (and out of the old one).
    profile = StaffProfile.objects.get(user=user)
    profile.role = Role.LEAD
    profile.save()
    assert list(user.groups.values_list("name", flat=True)) == ["lead"]


def test_user_admin_save_keeps_the_role_group(admin_client, officer):
    """Saving the user page (whose group box is empty) must not drop the role's group."""
    url = reverse("admin:auth_user_change", args=[officer.pk])
    profile = officer.staff_profile
    data = {
        "username": officer.username,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-id": profile.pk,
        "staff_profile-0-user": officer.pk,
        "staff_profile-0-display_name": profile.display_name,
        "staff_profile-0-bureau": profile.bureau_id,
        "staff_profile-0-role": profile.role,
        "staff_profile-0-phone": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(officer.groups.values_list("name", flat=True)) == ["officer"]


def test_data_migration_maps_free_text_roles_to_codes(hrss):
    migration = importlib.import_module("routing.migrations.0012_staff_role_choices")
    users = {}
    for text in ("承办人", "Dispatcher", " 承办单位负责人 ", "督办员", "something else"):
        user = get_user_model().objects.create_user(f"u-{len(users)}")
        StaffProfile.objects.bulk_create([StaffProfile(user=user, bureau=hrss, role=text)])  # no save(): raw value
        users[text] = user
    migration.map_roles(django_apps, None)
    roles = {text: StaffProfile.objects.get(user=user).role for text, user in users.items()}
    assert roles == {
        "承办人": "officer",
        "Dispatcher": "dispatcher",
        " 承办单位负责人 ": "lead",
        "督办员": "supervisor",
        "something else": "something else",
    }
    assert users["承办人"].groups.filter(name="officer").exists()
    assert Group.objects.filter(name="lead", user=users[" 承办单位负责人 "]).exists()


# --- API keys ----------------------------------------------------------------------------------------


def test_api_key_is_created_in_the_admin_and_shown_once(admin_client):
    response = admin_client.post(
        reverse("admin:appeals_api_apiclient_add"), {"name": "企业服务小程序", "channel": "api"}
    )
    assert response.status_code == 200
    key = response.context["secret"]
    assert key.startswith("hy_") and key in response.content.decode()
    client = ApiClient.objects.get(name="企业服务小程序")
    assert key not in client.key_hash and client.check_key(key)
    # Never shown again: not on the change page, not in the list.
    for url in (
        reverse("admin:appeals_api_apiclient_change", args=[client.pk]),
        reverse("admin:appeals_api_apiclient_changelist"),
    ):
        assert key not in admin_client.get(url).content.decode()
    # The key works against the API until revoked (an empty submission: 400 with the key, refused without).
    api = Client(HTTP_AUTHORIZATION=f"ApiKey {key}")
    assert api.post("/api/appeals/", {}, content_type="application/json").status_code == 400
    admin_client.post(
        reverse("admin:appeals_api_apiclient_changelist"), {"action": "revoke", ACTION_CHECKBOX_NAME: [client.pk]}
    )
    client.refresh_from_db()
    assert client.is_active is False
    assert api.post("/api/appeals/", {}, content_type="application/json").status_code in (401, 403)


# --- Personal data -----------------------------------------------------------------------------------


def test_appeal_admin_masks_contact_and_logs_the_reveal(admin_client, superuser, hrss):
    appeal = factories.submit(
        region=hrss.region, contact_phone="+8613912345678", contact_email="zhangsan@example.com"
    ).appeal
    change = admin_client.get(reverse("admin:appeals_appeal_change", args=[appeal.pk])).content.decode()
    assert "13912345678" not in change and "139 **** 5678" in change
    assert "zhangsan@example.com" not in change and "z***@example.com" in change
    url = reverse("admin:appeals_appeal_contact", args=[appeal.pk])
    confirm = admin_client.get(url).content.decode()
    assert "13912345678" not in confirm and "139 1234 5678" not in confirm
    assert not PiiAccessLog.objects.exists()
    revealed = admin_client.post(url).content.decode()
    assert "139 1234 5678" in revealed and "zhangsan@example.com" in revealed
    log = PiiAccessLog.objects.get()
    assert (log.user, log.appeal, log.action) == (superuser, appeal, "admin_view_contact")


def test_enterprise_admin_masks_contact_and_logs_the_reveal(admin_client, superuser, hrss):
    appeal = factories.submit(region=hrss.region, contact_phone="+8613912345678").appeal
    enterprise = appeal.enterprise
    enterprise.email = "boss@example.com"
    enterprise.save()
    url = reverse("admin:appeals_enterprise_change", args=[enterprise.pk])
    masked = admin_client.get(url).content.decode()
    assert "13912345678" not in masked and "boss@example.com" not in masked
    assert "b***@example.com" in masked
    assert not PiiAccessLog.objects.exists()
    revealed = admin_client.get(url + "?reveal=1").content.decode()
    assert "boss@example.com" in revealed and 'name="phone"' in revealed
    log = PiiAccessLog.objects.get()
    assert (log.user, log.appeal, log.action) == (superuser, None, "admin_view_enterprise_contact")
    assert enterprise.credit_code in log.detail
