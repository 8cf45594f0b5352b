"""Two-step login (TOTP, django-otp): optional for staff, required for administrators."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from routing.roles import Role
from tests import factories

PASSWORD = "correct-horse-battery"
pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def login(client: Client, user, **extra) -> object:
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD, **extra})


@pytest.fixture
def admin_user(db):
    return factories.staff_user(Role.ADMIN)


def test_an_officer_enrols_and_from_then_on_needs_the_code(officer):
    client = Client()
    assert login(client, officer).status_code == 302
    page = client.get(reverse("two_factor_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<path" in html  # the QR code is drawn on the server
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org/2000/svg", "")
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert client.post(reverse("two_factor_enrol"), {"token": "000000"}).status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next try wait (django-otp's throttling)
    response = client.post(reverse("two_factor_enrol"), {"token": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("logout"))
    # Password alone is no longer enough.
    again = Client()
    response = login(again, officer)
    assert response.status_code == 200 and "动态验证码" in response.content.decode()
    assert "_auth_user_id" not in again.session
    # The next time step's code (a code may be used once).
    device.refresh_from_db()
    device.throttle_reset()
    response = login(again, officer, otp_token=code_for(device, drift=1))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "_auth_user_id" in again.session


def test_staff_without_a_device_log_in_with_the_password_alone(officer):
    client = Client()
    assert login(client, officer).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_administrators_must_enrol_before_anything_else(admin_user, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_ADMINS = True
    client = Client()
    assert login(client, admin_user).status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_enrol")
    client.get(reverse("two_factor_enrol"))
    device = TOTPDevice.objects.get(user=admin_user)
    assert client.post(reverse("two_factor_enrol"), {"token": code_for(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    # A new session must give the code: password alone is refused.
    other = Client()
    assert login(other, admin_user).status_code == 200
    assert other.get("/admin/").status_code == 302
