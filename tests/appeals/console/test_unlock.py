"""The way back from a lockout: an unlock link by e-mail, and the administrator's reset action."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse

PASSWORD = "correct-horse-battery"
pytestmark = pytest.mark.django_db


def lock(user, settings) -> Client:
    user.set_password(PASSWORD)
    user.email = "officer@example.gov.cn"
    user.save(update_fields=["password", "email"])
    client = Client(REMOTE_ADDR="10.0.0.8")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.username, "password": "typo"})
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 429
    return client


def test_the_lockout_page_offers_an_unlock_link_by_e_mail(officer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = lock(officer, settings)
    page = client.post(reverse("login"), {"username": officer.username, "password": PASSWORD}).content.decode()
    assert reverse("unlock_request") in page
    response = client.post(reverse("unlock_request"), {"username": officer.username})
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == ["officer@example.gov.cn"]
    link = re.search(r"https?://\S+/staff/unlock/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200  # a confirmation page: opening the link alone unlocks nothing
    assert client.post(reverse("login"), {"username": officer.username, "password": PASSWORD}).status_code == 429
    assert client.post("/" + path).status_code == 302
    response = client.post(reverse("login"), {"username": officer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_unknown_accounts_get_the_same_answer_and_no_mail(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = Client().post(reverse("unlock_request"), {"username": "nobody"})
    assert response.status_code == 200
    assert "如果这个用户名存在" in response.content.decode()
    assert mail.outbox == []


def test_a_forged_link_is_refused(officer):
    assert Client().get("/staff/unlock/MQ/not-a-token/").status_code == 404


def test_an_administrator_can_reset_a_lockout_from_the_user_list(officer, settings, admin_client):
    client = lock(officer, settings)
    assert AccessAttempt.objects.filter(username=officer.username).exists()
    response = admin_client.post(
        reverse("admin:auth_user_changelist"), {"action": "unlock_logins", "_selected_action": [officer.pk]}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=officer.username).exists()
    assert client.post(reverse("login"), {"username": officer.username, "password": PASSWORD}).status_code == 302
