from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from knowledge.models import Article, ArticleState
from tests import factories


@pytest.fixture
def published(make_article):
    return make_article(
        "稳岗返还补贴怎么申请？",
        "登录广东人社网上办事大厅申请。详见 https://hrss.gd.gov.cn/ 。\n<script>alert(1)</script>",
        question_en="How do I apply for the job-retention rebate?",
        answer_en="Apply online at the Guangdong HRSS service hall.",
        policy_source="粤人社规〔2024〕1号",
        policy_url="https://hrss.gd.gov.cn/policy/1",
    )


def test_public_list_search_and_detail(client, published, make_article):
    make_article("未发布的草稿", "不应出现", publish=False)
    page = client.get(reverse("knowledge:list"), {"q": "稳岗"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "稳岗返还补贴怎么申请？" in html
    assert "未发布的草稿" not in html
    assert "稳岗返还补贴" not in client.get(reverse("knowledge:list"), {"q": "出口退税"}).content.decode()
    detail = client.get(reverse("knowledge:detail", args=[published.pk])).content.decode()
    # Answers are plain text: markup is escaped, web addresses become safe links, no script survives.
    assert "<script>alert(1)</script>" not in detail
    assert "&lt;script&gt;" in detail
    assert 'href="https://hrss.gd.gov.cn/"' in detail and 'rel="nofollow"' in detail
    assert 'href="https://hrss.gd.gov.cn/policy/1" rel="noopener noreferrer nofollow"' in detail


def test_policy_url_must_be_a_web_address(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("knowledge:staff_create"),
        {"question": "q", "answer": "a", "category": factories.category("employment").pk, "policy_url": "javascript:x"},
    )
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert not Article.objects.exists()


def test_unpublished_or_unknown_article_is_404(client, make_article):
    draft = make_article("草稿", "内容", publish=False)
    assert client.get(reverse("knowledge:detail", args=[draft.pk])).status_code == 404
    assert client.get(reverse("knowledge:detail", args=[999999])).status_code == 404


def test_english_page_shows_the_english_answer(client, published):
    with translation.override("en"):
        url = reverse("knowledge:detail", args=[published.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "How do I apply for the job-retention rebate?" in html
    assert "Policy basis" in html or "Policy source" in html


def test_public_form_offers_the_suggestion_panel(client, db):
    html = client.get(reverse("portal:submit")).content.decode()
    assert 'id="kb-suggestions"' in html and "kb-suggest.js" in html
    assert reverse("knowledge:suggest") in html


def test_staff_pages_need_a_bureau_role(client, officer, dispatcher, published):
    assert client.get(reverse("knowledge:staff_list")).status_code == 302
    client.force_login(dispatcher)
    assert client.get(reverse("knowledge:staff_list")).status_code == 403
    client.force_login(officer)
    listing = client.get(reverse("knowledge:staff_list"))
    assert listing.status_code == 200
    assert "稳岗返还补贴怎么申请？" in listing.content.decode()


def test_staff_of_another_bureau_cannot_open_or_act(client, finance, published):
    client.force_login(factories.staff_user("lead", finance))
    assert client.get(reverse("knowledge:staff_edit", args=[published.pk])).status_code == 404
    response = client.post(reverse("knowledge:staff_action", args=[published.pk, "retire"]), {"reason": "x"})
    assert response.status_code == 404
    assert Article.objects.get(pk=published.pk).state == ArticleState.PUBLISHED


def test_officer_writes_submits_and_lead_publishes_through_pages(client, officer, lead):
    client.force_login(officer)
    response = client.post(
        reverse("knowledge:staff_create"),
        {
            "question": "招聘会在哪里看？",
            "answer": "关注人社局公众号的招聘会栏目。",
            "category": factories.category("employment").pk,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:staff_edit", args=[article.pk])
    client.post(reverse("knowledge:staff_action", args=[article.pk, "submit"]))
    # The officer has no publish button and a forged request is refused.
    assert "审核通过并发布" not in client.get(reverse("knowledge:staff_edit", args=[article.pk])).content.decode()
    assert (
        client.post(reverse("knowledge:staff_action", args=[article.pk, "publish"]), {"confirmed": "on"}).status_code
        == 403
    )
    client.force_login(lead)
    unconfirmed = client.post(reverse("knowledge:staff_action", args=[article.pk, "publish"]), follow=True)
    assert "请先确认" in unconfirmed.content.decode()
    client.post(reverse("knowledge:staff_action", args=[article.pk, "publish"]), {"confirmed": "on"})
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED


def test_deflection_page_for_managers_and_leads(client, lead, officer):
    manager = factories.staff_user("manager")
    client.force_login(manager)
    assert client.get(reverse("knowledge:staff_deflection")).status_code == 200
    client.force_login(officer)
    assert client.get(reverse("knowledge:staff_deflection")).status_code == 403


def test_replied_appeal_page_offers_promotion_and_it_lands_in_review(client, hrss, officer):
    from appeals import services as appeal_services

    submitted = factories.submit(region=hrss.region, title="稳岗返还怎么申请", contact_name="李四")
    appeal_services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    appeal_services.appeal_submit_reply(
        appeal_id=submitted.appeal.pk, user=officer, reply="请登录人社网上办事大厅申请。"
    )
    client.force_login(officer)
    page = client.get(reverse("console:appeal", args=[submitted.appeal.pk])).content.decode()
    assert reverse("knowledge:staff_promote", args=[submitted.appeal.pk]) in page
    response = client.post(reverse("knowledge:staff_promote", args=[submitted.appeal.pk]))
    article = Article.objects.get(source_appeal=submitted.appeal)
    assert response["Location"] == reverse("knowledge:staff_edit", args=[article.pk])
    assert article.state == ArticleState.IN_REVIEW
