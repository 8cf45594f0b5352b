"""The confirmation page never sleeps in a request: it answers at once and lets the browser re-check."""

from __future__ import annotations

import time
from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from appeals.models import Appeal
from appeals.portal import session as portal_session
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_sleep(monkeypatch):
    def refuse(seconds):
        raise AssertionError(f"a request slept for {seconds} s")

    monkeypatch.setattr(time, "sleep", refuse)


def test_a_confirmation_not_yet_in_the_session_is_answered_at_once_with_a_refresh(client, portal_city, no_sleep):
    data = form_data(portal_city)
    other = Client()
    response = other.post(reverse("portal:submit"), data)
    url = response["Location"]
    started = time.monotonic()
    page = client.get(url)  # a browser whose session does not hold this confirmation (yet)
    assert time.monotonic() - started < 1.0
    html = page.content.decode()
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="1;url=' in html
    assert f"{url}?recheck=1" in html
    # After a few re-checks it stops asking and says the code was shown elsewhere.
    for attempt in range(1, 5):
        assert "recheck=" in client.get(f"{url}?recheck={attempt}").content.decode()
    final = client.get(f"{url}?recheck=5").content.decode()
    assert Appeal.objects.get().tracking_number in final
    assert "http-equiv" not in final
    assert client.get(f"{url}?recheck=bogus").status_code == 200


def test_a_session_written_by_the_first_request_meanwhile_is_read_without_waiting(client, portal_city, no_sleep):
    client.get(reverse("portal:submit"))  # the browser has a session
    client.session.save()
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    data = form_data(portal_city)
    Client().post(reverse("portal:submit"), data)
    appeal = Appeal.objects.get()
    # The first request (the one that saved the appeal) writes this browser's session after the
    # second request loaded it: simulated by writing the store directly.
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    store[portal_session.CONFIRMATIONS_KEY] = {
        data["idempotency_token"]: {"tracking_number": appeal.tracking_number, "access_code": "ABCDEFGH"}
    }
    store.save()
    request_session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    request_session[portal_session.CONFIRMATIONS_KEY] = {}
    request = type("R", (), {"session": request_session})()
    found = portal_session.confirmation_for(request, data["idempotency_token"])
    assert found == {"tracking_number": appeal.tracking_number, "access_code": "ABCDEFGH"}
