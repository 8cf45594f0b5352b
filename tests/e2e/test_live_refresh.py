"""Live updates never destroy input, keep focus and speak once (issue 15), in real Chromium.

A served ASGI app (see test_console_live.serve_asgi) with two appeals: one in triage, one already
dispatched to the officer's bureau. Each test types or focuses first, then pushes a live update
(a dispatch from another session) or forces a reconnect, and checks that the text, the open form
and the keyboard focus survive and that the polite live region said one short sentence.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_console_live import ROOT, _session, _wait_socket, serve_asgi

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

EXTRA_SEED = r"""
routed = factories.submit(region=city, category=Category.objects.get(code="social_insurance"),
                          title="稳岗补贴申领进度", description="申请稳岗补贴两个月未到账。").appeal
assert routed.state == "dispatched", routed.state
print("SEED+" + json.dumps({"routed": routed.pk, "routed_number": routed.tracking_number}))
"""

NEW_TRIAGE = r"""
from routing import decisions
from routing.models import Category, Region
from tests import factories
decisions._safe_classify = lambda title, description: None
appeal = factories.submit(region=Region.objects.get(code="foshan"), category=Category.objects.get(code="other"),
                          title="重连期间到达的诉求").appeal
print("NEW" + appeal.tracking_number + ":" + appeal.state)
"""

# Counts every time a live region (aria-live, role=status/alert) is given non-empty new text.
COUNT_ANNOUNCEMENTS = """
() => {
  window.__announced = [];
  const regions = document.querySelectorAll('[aria-live], [role=status], [role=alert]');
  regions.forEach((region) => {
    // innerText: what is rendered (hidden content is not in the accessibility tree either).
    let last = region.innerText.trim();
    new MutationObserver(() => {
      const now = region.innerText.trim();
      if (now && now !== last) { window.__announced.push(now); }
      last = now;
    }).observe(region, { childList: true, subtree: true, characterData: true, attributes: true });
  });
  return regions.length;
}
"""


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory):
    yield from serve_asgi(tmp_path_factory.mktemp("asgi-refresh"), EXTRA_SEED)


def _new_triage_appeal(server) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", NEW_TRIAGE],
        cwd=ROOT,
        env=server["env"],
        check=True,
        capture_output=True,
        text=True,
    )
    number, state = next(x for x in result.stdout.splitlines() if x.startswith("NEW"))[3:].split(":")
    assert state == "triage"
    return number


def test_reconnect_keeps_a_half_typed_comment_focus_and_speaks_once(browser, asgi_server):
    base, appeal_id = asgi_server["base"], asgi_server["appeal"]
    context, page = _session(browser, base, "disp1")
    try:
        _wait_socket(page)
        page.wait_for_timeout(500)  # the first counts fetch sets the baseline
        assert page.evaluate(COUNT_ANNOUNCEMENTS) >= 1
        row = page.locator(f"#dispatch-region tr[data-appeal-id='{appeal_id}']")
        row.locator("summary", has_text="不予受理").click()
        reason = page.locator(f"#reject-{appeal_id}")
        reason.click()
        reason.type("营业执照信息不全，请补充后")
        number = _new_triage_appeal(asgi_server)

        # Drop the socket: live.js reconnects and resyncs, the board refetches around the comment.
        page.evaluate("() => window.HuyingLive.reconnect()")
        page.locator(f"#dispatch-region a:has-text('{number}')").wait_for(timeout=10_000)
        page.wait_for_timeout(500)
        assert reason.input_value() == "营业执照信息不全，请补充后"
        assert page.evaluate("() => document.activeElement.id") == f"reject-{appeal_id}"
        assert row.locator(f"details:has(#reject-{appeal_id})").get_attribute("open") is not None
        reason.type("再提交。")  # keeps typing where it was
        assert reason.input_value() == "营业执照信息不全，请补充后再提交。"
        assert page.evaluate("() => window.__announced") == ["新增1件待分拨"]
        assert page.locator("[data-live-status]").inner_text() == "新增1件待分拨"
        screenshot(page, "live-refresh-dispatch-comment-kept")

        # A second reconnect with nothing new says nothing more.
        page.evaluate("() => window.HuyingLive.reconnect()")
        page.wait_for_function("() => window.__resyncs > 1")
        page.wait_for_timeout(800)
        assert page.evaluate("() => window.__announced") == ["新增1件待分拨"]
        assert reason.input_value() == "营业执照信息不全，请补充后再提交。"
    finally:
        context.close()


def test_live_dispatch_keeps_focus_on_the_same_appeal_and_announces_one_line(browser, asgi_server):
    base = asgi_server["base"]
    routed, routed_number = asgi_server["routed"], asgi_server["routed_number"]
    officer_ctx, officer = _session(browser, base, "officer1")
    dispatcher_ctx, dispatcher = _session(browser, base, "disp1")
    try:
        _wait_socket(officer)
        officer.wait_for_timeout(500)
        officer.evaluate(COUNT_ANNOUNCEMENTS)
        link = officer.locator(f"#queue-region tr[data-appeal-id='{routed}'] a:has-text('{routed_number}')")
        link.focus()
        assert officer.locator("#queue-region").get_attribute("aria-live") is None  # the table is not a live region

        # The dispatcher routes a triage appeal to the officer's bureau (a live event, no reconnect).
        _wait_socket(dispatcher)
        triage_row = dispatcher.locator("#dispatch-region tr:has(button[data-one-click])").first
        dispatched_id = triage_row.get_attribute("data-appeal-id")
        with dispatcher.expect_navigation():
            triage_row.locator("button[data-one-click]").click()

        officer.locator(f"#queue-region tr[data-appeal-id='{dispatched_id}']").wait_for(timeout=10_000)
        officer.wait_for_timeout(500)
        focused = officer.evaluate(
            "() => [document.activeElement.tagName,"
            " document.activeElement.closest('[data-appeal-id]')?.dataset.appealId]"
        )
        assert focused == ["A", str(routed)]
        assert officer.evaluate("() => window.__announced") == ["新增1件待签收"]
        screenshot(officer, "live-refresh-bureau-focus-kept")
        officer.keyboard.press("Enter")  # the kept focus is a real, usable focus
        officer.wait_for_url(f"**/staff/appeals/{routed}/")
    finally:
        officer_ctx.close()
        dispatcher_ctx.close()


def test_presence_speaks_only_on_change_and_the_update_banner_is_announced(browser, asgi_server):
    base, routed = asgi_server["base"], asgi_server["routed"]
    officer_ctx, officer = _session(browser, base, "officer1")
    lead_ctx, lead = _session(browser, base, "lead1")
    try:
        officer.goto(f"{base}/staff/appeals/{routed}/")
        _wait_socket(officer)
        officer.evaluate(COUNT_ANNOUNCEMENTS)
        lead.goto(f"{base}/staff/appeals/{routed}/")
        _wait_socket(lead)
        officer.locator("[data-presence]", has_text="赵科长 正在查看").wait_for(timeout=10_000)
        # The lead's tab re-announces the same status several times (as its heartbeat does).
        for _ in range(4):
            lead.evaluate(f"() => window.HuyingLive.presence({routed}, 'viewing')")
        lead.wait_for_timeout(1000)
        assert officer.evaluate("() => window.__announced") == ["赵科长 正在查看"]

        # The lead signs for it: the officer's page shows the banner inside a polite status region.
        with lead.expect_navigation():
            lead.locator("form[data-action='sign_for'] button").click()
        banner = officer.locator("[data-stale-banner]")
        banner.wait_for(state="visible", timeout=10_000)
        assert banner.evaluate("(el) => el.closest('[role=status]') !== null")
        officer.wait_for_timeout(300)
        announced = officer.evaluate("() => window.__announced")
        # (The lead's page reloaded after signing for: left, then viewing again — a real change.)
        assert [text for text in announced if "更新" in text] == ["这件诉求刚刚被其他人更新。 刷新页面查看最新情况"]
        screenshot(officer, "live-refresh-appeal-banner")
    finally:
        officer_ctx.close()
        lead_ctx.close()
