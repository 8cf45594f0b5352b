"""Two (three) staff sessions in real Chromium against a served ASGI app with websockets.

pytest-django's live_server is WSGI-only, so this test migrates a throw-away SQLite file, seeds it
through the real services in a subprocess, and serves ``config.asgi`` with uvicorn on a free port.
It shows: a dispatch by the dispatcher appears in the officer's queue without a reload, and the
officer's appeal page warns while the bureau lead is writing a reply (presence).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import screenshot

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SEED = r"""
import json
from django.contrib.auth.models import Group
from django.contrib.auth import get_user_model
from routing import decisions
from routing.models import Bureau, BureauType, Category, Region, StaffProfile
from appeals import services
from appeals.models import Appeal
from tests import factories

decisions._safe_classify = lambda title, description: None  # deterministic triage for the seed
city, _ = Region.objects.get_or_create(code="foshan", defaults={"name": "佛山市", "name_en": "Foshan"})
def bureau(code):
    t = BureauType.objects.get(code=code)
    return Bureau.objects.get_or_create(region=city, bureau_type=t, defaults={"name": city.name + t.name})[0]
hrss, centre = bureau("hrss"), bureau("dispatch")
def user(name, role, b, display):
    u = get_user_model().objects.create_user(name, password=PASSWORD)
    u.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=u, bureau=b, role=role, display_name=display)
    return u
user("officer1", "officer", hrss, "王承办")
user("lead1", "lead", hrss, "赵科长")
user("disp1", "dispatcher", centre, "陈分拨")
appeal = factories.submit(region=city, category=Category.objects.get(code="other"), title="员工社保断缴怎么补",
                          description="企业因资金周转导致两个月社保断缴，想了解补缴流程。").appeal
Appeal.objects.filter(pk=appeal.pk).update(suggested_category=Category.objects.get(code="social_insurance"),
                                           category_confidence=0.91)
print("SEED" + json.dumps({"appeal": appeal.pk, "number": appeal.tracking_number, "state": appeal.state}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_MIGRATED: list[Path] = []


def _migrated_database() -> Path:
    """A SQLite file with every migration applied, made once per test process and copied per server.

    Migrating loads the whole province (regions, bureaus, the classifier); doing it once keeps each
    served app's setup to a file copy and a seed, well inside the per-test timeout on a busy machine.
    """
    if not _MIGRATED:
        path = Path(tempfile.mkdtemp(prefix="huying-e2e-")) / "migrated.sqlite3"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{path}",
            "REDIS_URL": "",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        _MIGRATED.append(path)
    return _MIGRATED[0]


def serve_asgi(var: Path, extra_seed: str = ""):
    """Migrate and seed a SQLite file under ``var``, serve ``config.asgi`` on a free port; yield its facts.

    ``extra_seed`` runs after SEED in the same shell and may print ``SEED+{json}`` lines to add facts.
    """
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'e2e.sqlite3'}",
        "HUYING_VAR_DIR": str(var),
        "PRIVATE_MEDIA_ROOT": str(var / "private"),
        "DEBUG": "true",
        "REDIS_URL": "",
        "LOGIN_FAILURE_LIMIT": "50",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    python = sys.executable
    shutil.copyfile(_migrated_database(), var / "e2e.sqlite3")
    seeded = subprocess.run(
        [python, "manage.py", "shell", "-c", f"PASSWORD={PASSWORD!r}\n{SEED}\n{extra_seed}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(x for x in seeded.stdout.splitlines() if x.startswith("SEED{"))
    seed = json.loads(line[4:])
    for extra in (x for x in seeded.stdout.splitlines() if x.startswith("SEED+")):
        seed.update(json.loads(extra[5:]))
    assert seed["state"] == "triage", seed
    port = _free_port()
    log = open(var / "uvicorn.log", "wb")  # noqa: SIM115 - closed in the teardown below
    server = subprocess.Popen(
        [python, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/staff/login/", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("uvicorn did not start:\n" + (var / "uvicorn.log").read_text(errors="replace"))
            time.sleep(0.3)
    yield {"base": base, "env": env, "log": var / "uvicorn.log", **seed}
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory):
    if not (ROOT / "static" / "js" / "live.js").exists():
        pytest.skip("static/js/live.js (notifications, part 1) is not in the tree yet; the live test needs it.")
    yield from serve_asgi(tmp_path_factory.mktemp("asgi"))


def _session(browser, base, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    # live.js fires huying:resync when the server answers "hello", which it sends after the page's
    # subscriptions, so a resync means the subscriptions are in place.
    context.add_init_script(
        "window.__resyncs = 0; document.addEventListener('huying:resync', function () { window.__resyncs++; });"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return context, page


def _wait_socket(page):
    """Wait until this page's websocket is connected and subscribed (see the init script above)."""
    page.wait_for_function("() => window.HuyingLive !== undefined && window.__resyncs > 0")


def test_dispatch_appears_live_and_presence_warns_of_a_second_writer(browser, asgi_server):
    base, number, appeal_id = asgi_server["base"], asgi_server["number"], asgi_server["appeal"]
    officer_ctx, officer = _session(browser, base, "officer1")
    dispatcher_ctx, dispatcher = _session(browser, base, "disp1")
    lead_ctx, lead = _session(browser, base, "lead1")
    try:
        assert officer.url.endswith("/staff/"), officer.inner_text("main")
        assert dispatcher.url.endswith("/staff/dispatch/")
        assert officer.locator(f"a:has-text('{number}')").count() == 0
        _wait_socket(officer)

        # The dispatcher routes the triage appeal with one click on the classifier's suggestion.
        row = dispatcher.locator(f"tr[data-appeal-id='{appeal_id}']")
        screenshot(dispatcher, "console-dispatch-before")
        with dispatcher.expect_navigation():
            row.locator("button[data-one-click]").click()
        screenshot(dispatcher, "console-dispatch-after")

        # …and it appears in the officer's open console without a reload.
        officer.locator(f"tbody[data-queue-body] a:has-text('{number}')").wait_for(timeout=10_000)
        officer.locator("[data-queue-count='sign_for']", has_text="1").wait_for()
        screenshot(officer, "console-queue-live")

        # The officer signs for it; the lead opens the same appeal and starts writing a reply.
        with officer.expect_navigation():
            officer.click(f"tbody[data-queue-body] a:has-text('{number}')")
        with officer.expect_navigation():
            officer.locator("form[data-action='sign_for'] button").click()
        assert "办理中" in officer.inner_text(".appeal-meta")
        _wait_socket(officer)
        lead.goto(f"{base}/staff/appeals/{appeal_id}/")
        _wait_socket(lead)
        officer.locator("[data-presence]", has_text="赵科长 正在查看").wait_for(timeout=10_000)
        lead.locator("textarea[name='reply-reply']").type("您好，关于社保补缴")
        warning = officer.locator("[data-collision]")
        warning.wait_for(state="visible", timeout=10_000)
        assert "赵科长 正在撰写答复" in warning.inner_text()
        screenshot(officer, "console-appeal-collision")

        # The lead's reply goes out first; the officer's stale form then gets a clear conflict.
        with lead.expect_navigation():
            lead.locator("form[data-action='reply'] button[type=submit]").click()
        officer.locator("[data-stale-banner]").wait_for(state="visible", timeout=10_000)
        officer.locator("textarea[name='reply-reply']").fill("我的答复")
        with officer.expect_navigation():
            officer.locator("form[data-action='reply'] button[type=submit]").click()
        assert "刚刚被其他人更新过" in officer.inner_text("#action-error")
        screenshot(officer, "console-appeal-conflict")
    finally:
        for ctx in (officer_ctx, dispatcher_ctx, lead_ctx):
            ctx.close()


def test_console_pages_have_no_axe_violations(browser, asgi_server):
    from tests.e2e.conftest import axe_violations, format_violations

    base, appeal_id = asgi_server["base"], asgi_server["appeal"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{base}/staff/login/")
        assert axe_violations(page) == [], format_violations(axe_violations(page))
        screenshot(page, "console-login")
        context.close()
        for username, urls in (
            ("officer1", ["/staff/", f"/staff/appeals/{appeal_id}/"]),
            ("disp1", ["/staff/dispatch/", "/staff/overdue/", f"/staff/appeals/{appeal_id}/"]),
        ):
            context, page = _session(browser, base, username)
            for url in urls:
                page.goto(base + url)
                violations = axe_violations(page)
                assert violations == [], f"{url}: {format_violations(violations)}"
                screenshot(page, f"console-{username}-{url.strip('/').replace('/', '-') or 'home'}")
            context.close()
    finally:
        context.close()


NEW_APPEAL = r"""
from routing import decisions
from routing.models import Region
from tests import factories
decisions._safe_classify = lambda title, description: None
appeal = factories.submit(region=Region.objects.get(code="foshan"), title="断线期间提交的诉求").appeal
print("NEW" + appeal.tracking_number + ":" + appeal.state)
"""


def test_resync_after_a_drop_shows_what_was_missed(browser, asgi_server):
    """An appeal filed in another process (its event never reaches this server's in-memory layer, like
    an event lost while the socket was down) appears once live.js reports a resync."""
    base = asgi_server["base"]
    context, officer = _session(browser, base, "officer1")
    try:
        _wait_socket(officer)
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", NEW_APPEAL],
            cwd=ROOT,
            env=asgi_server["env"],
            check=True,
            capture_output=True,
            text=True,
        )
        number, state = next(x for x in result.stdout.splitlines() if x.startswith("NEW"))[3:].split(":")
        assert state == "dispatched"
        officer.wait_for_timeout(1500)
        assert officer.locator(f"tbody[data-queue-body] a:has-text('{number}')").count() == 0
        officer.evaluate("() => document.dispatchEvent(new CustomEvent('huying:resync'))")
        officer.locator(f"tbody[data-queue-body] a:has-text('{number}')").wait_for(timeout=10_000)
        officer.locator("[data-counter='bureau-open']", has_text="1").wait_for(timeout=10_000)
    finally:
        context.close()


def test_browsing_left_no_websocket_errors_in_the_server_log(asgi_server):
    """Pages opened, navigated away from and closed above: every disconnect was clean (issue 12 item 11,
    issue 15: no "websocket.send after websocket.close" tracebacks)."""
    text = asgi_server["log"].read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert "after sending 'websocket.close'" not in text
