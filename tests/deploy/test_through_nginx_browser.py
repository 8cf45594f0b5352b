"""Chromium through nginx as deployed: an officer's console updates live over /ws/ (uvicorn) while an
appellant files an appeal on the form (gunicorn) and then tracks it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests import factories
from tests.deploy.stack import PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.nginx,
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Chromium at {CHROMIUM} (Debian package 'chromium'; `make browser`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    # live.js fires huying:resync once the server has confirmed the page's subscriptions.
    context.add_init_script(
        "window.__resyncs = 0; document.addEventListener('huying:resync', function () { window.__resyncs++; });"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def test_file_track_and_a_live_console_update_through_nginx(stack, chromium):
    base = stack.base
    officer_ctx, officer = _context(chromium)
    appellant_ctx, appellant = _context(chromium)
    sockets = []
    officer.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        officer.goto(f"{base}/staff/login/")
        officer.fill("#id_username", "officer1")
        officer.fill("#id_password", PASSWORD)
        with officer.expect_navigation():
            officer.click("main button[type=submit]")
        assert officer.url.endswith("/staff/"), officer.inner_text("main")
        officer.wait_for_function("() => window.HuyingLive !== undefined && window.__resyncs > 0")
        assert sockets and sockets[0].startswith(base.replace("http://", "ws://") + "/ws/")

        # The appellant files on the public form (served by gunicorn behind nginx).
        appellant.goto(f"{base}/")
        appellant.fill("#id_enterprise_name", "佛山市禅城区好运五金制品有限公司")
        appellant.fill("#id_credit_code", factories.credit_code())
        appellant.select_option("#id_region", str(stack.seed["region"]))
        appellant.select_option("#id_industry", "C")
        appellant.check("input[name=enterprise_size][value=small]")
        appellant.fill("#id_contact_name", "王小明")
        appellant.fill("#id_contact_phone", "13800138000")
        appellant.check(f"input[name=category][value='{stack.seed['employment']}']")
        appellant.check("input[name=urgency][value=normal]")
        appellant.check("input[name=appeal_type][value=help]")
        appellant.fill("#id_title", "经nginx在浏览器中提交")
        appellant.fill("#id_description", "订单增加，需要10名熟练焊工，多次招聘无果，希望协助对接技工院校。")
        appellant.get_by_role("button", name="提交诉求").click()
        appellant.wait_for_url(re.compile(r"/submitted/"))
        number = appellant.inner_text("#tracking-number").strip()
        code = appellant.inner_text("#access-code").strip()

        # The officer's open console shows it without a reload: gunicorn published, uvicorn pushed over /ws/.
        officer.locator(f"tbody[data-queue-body] a:has-text('{number}')").wait_for(timeout=15_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        officer.screenshot(path=str(ARTIFACTS / "deploy-console-live-through-nginx.png"), full_page=True)

        # The appellant tracks it another day.
        appellant.goto(f"{base}/track/")
        appellant.fill("#id_tracking_number", number)
        appellant.fill("#id_access_code", code)
        appellant.get_by_role("button", name="查询").click()
        appellant.wait_for_url(re.compile(rf"/track/{number}/$"))
        assert "经nginx在浏览器中提交" in appellant.inner_text("main")
        # Stylesheets came through nginx's /static/ with hashed names (collectstatic ran).
        stylesheet = appellant.evaluate("() => document.querySelector('link[rel=stylesheet]').href")
        assert re.search(r"/static/.+\.[0-9a-f]{12}\.css$", stylesheet), stylesheet
    finally:
        officer_ctx.close()
        appellant_ctx.close()
