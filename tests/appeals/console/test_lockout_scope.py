"""A lockout an attacker cannot aim: failures lock a username only from the address they came from."""

from __future__ import annotations

from django.test import Client

PASSWORD = "correct-horse-battery"


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(officer, settings):
    officer.set_password(PASSWORD)
    officer.save(update_fields=["password"])
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/staff/login/", {"username": officer.username, "password": "guess"})
    locked = attacker.post("/staff/login/", {"username": officer.username, "password": PASSWORD})
    assert locked.status_code == 429
    # The officer at their own desk logs in as usual.
    desk = Client(REMOTE_ADDR="10.20.30.40")
    response = desk.post("/staff/login/", {"username": officer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in desk.session
