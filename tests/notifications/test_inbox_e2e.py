"""The inbox in real Chromium against a served ASGI app: the unread badge follows the user live.

pytest-django's live server speaks WSGI only, so the app is served by uvicorn from a throw-away
SQLite file seeded in a subprocess (in-memory channel layer: one server process).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, screenshot

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

SEED = r"""
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from notifications.models import InboxItem
from routing.models import Bureau, BureauType, Region, StaffProfile

city, _ = Region.objects.get_or_create(code="foshan", defaults={"name": "佛山市"})
hrss, _ = Bureau.objects.get_or_create(region=city, bureau_type=BureauType.objects.get(code="hrss"),
                                       defaults={"name": "佛山市人力资源和社会保障局"})
user = get_user_model().objects.create_user("officer1", email="wang@example.com")
user.groups.add(Group.objects.get(name="officer"))
StaffProfile.objects.create(user=user, bureau=hrss, role="officer", display_name="王承办")
InboxItem.objects.create(user=user, event_type="appeal.dispatched", title="新诉求派至本单位",
                         body="新诉求 20261123000001“招工困难”已派至本单位，请在签收时限前签收或退单。",
                         url="/staff/appeals/1/")
InboxItem.objects.create(user=user, event_type="deadline.urged", title="催办",
                         body="催办：诉求 20261120000007“融资难”已超过答复时限，请立即办理。", url="/staff/appeals/2/")
sessions = []
for _ in range(2):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    sessions.append(s.session_key)
print("SEED" + json.dumps(sessions))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Chromium at {CHROMIUM} (Debian package 'chromium').")
    var = tmp_path_factory.mktemp("inbox-e2e")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'e2e.sqlite3'}",
        "HUYING_VAR_DIR": str(var),
        "DEBUG": "true",
        "REDIS_URL": "",
        "NOTIFY_KICK_DELIVERY": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    out = subprocess.run(
        [python, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    sessions = json.loads(out.split("SEED", 1)[1])
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(python).with_name("uvicorn")),
            "config.asgi:application",
            "--port",
            str(port),
            "--ws",
            "websockets",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", sessions
    server.terminate()
    server.wait(timeout=20)


def test_unread_badge_updates_live_across_tabs(served):
    from playwright.sync_api import expect, sync_playwright

    base, sessions = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages = []
        for session in sessions:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
            page = context.new_page()
            page.set_default_timeout(15_000)
            pages.append(page)
        first, second = pages

        first.goto(base + "/notifications/")
        badge = first.locator('[data-counter="unread"]')
        expect(badge).to_have_text("2")  # filled by live.js after its "hello" resync
        expect(badge).to_be_visible()
        screenshot(first, "notifications-inbox")

        second.goto(base + "/notifications/")
        second.get_by_role("button", name="全部标为已读").click()
        expect(second.get_by_text("已将 2 条消息标为已读。")).to_be_visible()
        # The first tab was not reloaded: the server pushed {"type": "inbox", "unread": 0} to user.<id>.
        expect(badge).to_be_hidden()

        first.goto(base + "/notifications/preferences/")
        expect(first.get_by_role("heading", name="通知设置")).to_be_visible()
        first.get_by_label("新诉求派至本单位 · 邮件").check()
        first.get_by_role("button", name="保存设置").click()
        expect(first.get_by_text("通知设置已保存。")).to_be_visible()
        expect(first.get_by_label("新诉求派至本单位 · 邮件")).to_be_checked()
        screenshot(first, "notifications-preferences")
        browser.close()
