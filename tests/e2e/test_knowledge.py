"""The knowledge base in a real Chromium: answers suggested while typing, opened without losing the
form, the appeal still filed and counted; the public pages; the lead's review page.

Screenshots go to tests/artifacts/knowledge-*.png.
"""

from __future__ import annotations

import re

import pytest

from appeals.models import Appeal
from knowledge import services
from knowledge.index import reset_index
from knowledge.models import SuggestionSession
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations, screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db, settings):
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=False)
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "INDEX_CHECK_SECONDS": 0, "BACKGROUND_REBUILD": False}
    reset_index()


@pytest.fixture
def articles(_taxonomy, hrss, dispatch_centre, officer, lead):
    employment = factories.category("employment")
    made = []
    for question, answer in [
        (
            "企业招工难，政府能提供哪些招聘服务？",
            "人社部门每月举办线上线下招聘会，企业可以免费发布岗位，也可以申请用工对接服务。",
        ),
        ("稳岗返还补贴怎么申请？", "参保满一年、上年度未裁员或裁员率低的企业，可在人社网上办事大厅申请稳岗返还。"),
    ]:
        article = services.article_create(
            user=officer, bureau_id=hrss.pk, data={"question": question, "answer": answer, "category": employment}
        )
        services.article_submit(user=officer, article_id=article.pk)
        made.append(services.article_publish(user=lead, article_id=article.pk, confirmed=True))
    return made


def test_suggestions_while_typing_do_not_block_filing(page, live_server, articles, hrss):
    page.goto(live_server.url + "/")
    assert page.is_hidden("#kb-suggestions")
    page.fill("#id_title", "招不到人")
    page.fill("#id_description", "工厂订单多，招工难，想问政府有没有招聘会可以免费发布岗位。")
    page.wait_for_selector("#kb-suggestions:not([hidden]) li")
    items = page.locator("#kb-suggestions li")
    assert 1 <= items.count() <= 3
    assert "招聘服务" in items.first.inner_text()
    assert "可能有用" in page.inner_text("[data-kb-status]")
    # Opening an answer expands it in place: nothing typed is lost.
    items.first.locator("summary").click()
    assert "招聘会" in items.first.inner_text()
    screenshot(page, "knowledge-01-suggestions-on-form")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)

    page.fill("#id_enterprise_name", "佛山市禅城区好运五金制品有限公司")
    page.fill("#id_credit_code", "91350200776049653A")
    page.select_option("#id_region", str(hrss.region.pk))
    page.select_option("#id_industry", "C")
    page.check("input[name=enterprise_size][value=small]")
    page.fill("#id_contact_name", "王小明")
    page.fill("#id_contact_phone", "13800138000")
    page.check(f"input[name=category][value='{factories.category('employment').pk}']")
    page.check("input[name=appeal_type][value=enquiry]")
    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_url(re.compile(r"/submitted/"))
    assert Appeal.objects.count() == 1

    session = SuggestionSession.objects.get()
    assert articles[0].pk in session.shown
    assert session.opened == [articles[0].pk]
    assert session.filed_at is not None


def test_public_pages_and_lead_review(page, live_server, articles, lead, officer, hrss):
    page.goto(live_server.url + "/kb/")
    page.fill("#id_q", "稳岗")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r"q="))
    links = page.locator(".kb-list h3 a")
    assert links.count() == 1
    links.first.click()
    page.wait_for_selector("h1")
    assert "稳岗返还补贴怎么申请？" in page.inner_text("h1")
    screenshot(page, "knowledge-02-public-article")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)

    draft = services.article_create(
        user=officer,
        bureau_id=hrss.pk,
        data={
            "question": "招聘会信息在哪里看？",
            "answer": "请咨询王先生 13812345678。",
            "category": factories.category("employment"),
        },
    )
    services.article_submit(user=officer, article_id=draft.pk)
    page.context.add_cookies([_session_cookie(live_server, lead)])
    page.goto(f"{live_server.url}/staff/knowledge/{draft.pk}/")
    assert "疑似个人信息" in page.inner_text("main")
    page.check("input[name=confirmed]")
    page.get_by_role("button", name="审核通过并发布").click()
    page.wait_for_selector(".flash")
    assert "疑似个人信息" in page.inner_text(".flash")
    screenshot(page, "knowledge-03-lead-review")


def _session_cookie(live_server, user) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }
