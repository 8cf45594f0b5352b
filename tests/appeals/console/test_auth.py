"""Staff login, role redirects, logout and the lockout after repeated failures (django-axes)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories

PASSWORD = "correct-horse-battery"


def with_password(user):
    # The shared factory skips the post-generation save, so set a known password here.
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_login_url_names_resolve():
    assert reverse("login") == "/staff/login/"
    assert reverse("logout") == "/staff/logout/"
    assert reverse("console:login") == "/staff/login/"


def test_anonymous_user_is_sent_to_login(db):
    response = Client().get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/?next=/staff/")


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("officer", "/staff/"),
        ("lead", "/staff/"),
        ("dispatcher", "/staff/dispatch/"),
        ("supervisor", "/staff/overdue/"),
    ],
)
def test_login_redirects_each_role_to_its_console(hrss, dispatch_centre, role, home):
    bureau = hrss if role in ("officer", "lead") else dispatch_centre
    user = with_password(factories.staff_user(role, bureau))
    client = Client()
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_login_honours_a_safe_next_but_not_an_external_one(officer):
    with_password(officer)
    client = Client()
    response = client.post("/staff/login/?next=/staff/overdue/", {"username": officer.username, "password": PASSWORD})
    assert response["Location"] == "/staff/overdue/"
    client = Client()
    response = client.post(
        "/staff/login/", {"username": officer.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/staff/"


def test_user_without_a_role_cannot_log_in(db):
    user = with_password(factories.UserFactory())
    response = Client().post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "还没有分配工作角色" in response.content.decode()


def test_wrong_password_explains_what_to_do(officer):
    response = Client().post("/staff/login/", {"username": officer.username, "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_repeated_failures_lock_the_account_with_a_clear_message(officer, settings):
    with_password(officer)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/staff/login/", {"username": officer.username, "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/staff/login/", {"username": officer.username, "password": "wrong"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "账号已暂时锁定" in body
    assert "分钟后" in body
    # Even the right password is refused while locked.
    response = client.post("/staff/login/", {"username": officer.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only_and_ends_the_session(officer, login):
    client = login(officer)
    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302
