from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge import selectors, services
from knowledge.models import SuggestionSession
from tests import factories


@pytest.fixture
def articles(make_article, finance, lead):
    return {
        "subsidy": make_article(
            "稳岗返还补贴怎么申请？",
            "参保缴费满一年、上年度未裁员或裁员率低于规定比例的企业，可在广东人社网上办事大厅申请稳岗返还。",
        ),
        "recruit": make_article(
            "企业招工难，政府能提供哪些招聘服务？",
            "人社部门每月举办线上线下招聘会，企业可免费发布岗位，还可申请用工对接服务。",
        ),
        "draft": make_article("社保补贴草稿", "稳岗返还 草稿 不应展示", publish=False),
    }


def test_suggestions_rank_the_matching_answer_first(articles):
    found = selectors.suggestions_for(text="想问一下稳岗返还的补贴要怎么申请，需要什么条件")
    assert found[0].article == articles["subsidy"]
    assert articles["draft"].pk not in [s.article.pk for s in found]
    assert len(found) <= 3


def test_unrelated_text_gets_no_suggestion(articles):
    assert selectors.suggestions_for(text="出口退税的单证备案流程太慢了") == []
    assert selectors.suggestions_for(text="急") == []


def test_full_width_and_case_do_not_matter(articles):
    found = selectors.suggestions_for(text="ＯＫ 招聘会 企业招工难 免费发布岗位")
    assert found and found[0].article == articles["recruit"]


def test_region_scoped_article_is_offered_only_in_that_region(make_article, city):
    other_city = factories.RegionFactory(code="zhuhai", name="珠海市")
    district = factories.RegionFactory(code="chancheng", name="禅城区", parent=city, level="district")
    scoped = make_article("佛山本地的技能培训补贴", "佛山市户籍员工参加技能培训可获补贴。", region=city)
    text = "佛山 技能培训补贴 员工培训"
    assert selectors.suggestions_for(text=text, region=district)[0].article == scoped
    assert selectors.suggestions_for(text=text, region=other_city) == []


def test_published_then_retired_article_leaves_suggestions(articles, lead):
    text = "企业招工难 招聘会"
    assert selectors.suggestions_for(text=text)[0].article == articles["recruit"]
    services.article_retire(user=lead, article_id=articles["recruit"].pk, reason="政策调整")
    assert articles["recruit"].pk not in [s.article.pk for s in selectors.suggestions_for(text=text)]


def test_suggest_endpoint_records_what_was_shown_opened_and_filed(client, articles):
    token = str(uuid.uuid4())
    response = client.post(
        reverse("knowledge:suggest"),
        {"token": token, "title": "稳岗返还", "description": "请问稳岗返还补贴怎么申请"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["suggestions"][0]["id"] == articles["subsidy"].pk
    assert body["suggestions"][0]["url"] == reverse("knowledge:detail", args=[articles["subsidy"].pk])
    session = SuggestionSession.objects.get(token=token)
    assert articles["subsidy"].pk in session.shown
    event_url = reverse("knowledge:suggestion_event")
    # An article that was never shown cannot be counted as opened.
    client.post(event_url, {"token": token, "kind": "opened", "article": articles["draft"].pk})
    client.post(event_url, {"token": token, "kind": "opened", "article": articles["subsidy"].pk})
    assert client.post(event_url, {"token": token, "kind": "filed"}).status_code == 204
    session.refresh_from_db()
    assert session.opened == [articles["subsidy"].pk]
    assert session.filed_at is not None


def test_suggest_endpoint_refuses_bad_input_and_creates_nothing(client, articles):
    response = client.post(reverse("knowledge:suggest"), {"token": "not-a-uuid", "title": "稳岗返还"})
    assert response.status_code == 400
    assert response.json()["error"]
    bad_event = client.post(reverse("knowledge:suggestion_event"), {"token": "x", "kind": "deleted"})
    assert bad_event.status_code == 400
    assert not SuggestionSession.objects.exists()


def test_suggest_endpoint_is_rate_limited(client, settings, articles):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "knowledge_suggest": "2/m"}
    settings.RATELIMIT_ENABLE = True
    url = reverse("knowledge:suggest")
    codes = [client.post(url, {"title": "稳岗返还补贴"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_deflection_counts_by_category(articles, employment):
    old = timezone.now() - timedelta(days=2)
    SuggestionSession.objects.create(category=employment, shown=[1], opened=[1], created_at=old)  # deflected
    SuggestionSession.objects.create(category=employment, shown=[1], opened=[1], created_at=old, filed_at=old)
    SuggestionSession.objects.create(category=employment, shown=[1], opened=[], created_at=old)
    SuggestionSession.objects.create(category=employment, shown=[1], opened=[1])  # too recent to judge
    SuggestionSession.objects.create(category=employment, shown=[], opened=[], created_at=old)  # nothing shown
    today = timezone.localdate()
    [row] = selectors.deflection_by_category(start=today - timedelta(days=7), end=today)
    assert (row.sessions, row.opened, row.filed, row.deflected) == (4, 3, 1, 1)
    assert row.deflection_rate == pytest.approx(0.25)


def test_a_changed_index_is_rebuilt_in_the_background_while_the_old_one_answers(settings, monkeypatch):
    """The mechanism alone (no database: another thread cannot see a test's uncommitted rows)."""
    from knowledge import index as index_module

    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "INDEX_CHECK_SECONDS": 0, "BACKGROUND_REBUILD": True}
    generation = {"value": 1}
    built: list[int] = []

    def build(today):
        built.append(generation["value"])
        return index_module.SuggestionIndex([])

    monkeypatch.setattr(index_module, "_generation", lambda today: (today, generation["value"]))
    monkeypatch.setattr(index_module, "_build", build)
    old = index_module.current_index()  # the first index is built in the request
    assert built == [1]
    generation["value"] = 2  # an article was published somewhere
    assert index_module.current_index() is old  # answered at once by the old index …
    index_module._state["thread"].join(timeout=30)  # type: ignore[attr-defined]
    new = index_module.current_index()  # … while a thread built the new one
    assert new is not old and built == [1, 2]
    assert index_module.current_index() is new  # nothing changed since: no more rebuilds
    assert built == [1, 2]
