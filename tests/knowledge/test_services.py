from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from appeals import services as appeal_services
from knowledge import services
from knowledge.models import Article, ArticleEvent, ArticleState
from notifications.models import OutboxEvent
from tests import factories


def test_officer_drafts_and_lead_publishes_with_history(make_article, officer, lead):
    article = make_article("稳岗返还怎么申请？", "登录广东政务服务网，进入稳岗返还专区在线申请。")
    assert article.state == ArticleState.PUBLISHED
    assert article.reviewed_by == lead
    kinds = list(article.events.values_list("kind", flat=True))
    assert kinds == ["created", "submitted", "published"]
    assert article.events.get(kind="published").actor == lead


def test_officer_cannot_publish(make_article, officer):
    article = make_article("问题", "解答内容足够长", publish=False)
    with pytest.raises(services.NotAllowed):
        services.article_publish(user=officer, article_id=article.pk, confirmed=True)
    assert Article.objects.get(pk=article.pk).state == ArticleState.DRAFT


def test_publishing_requires_confirmation_and_flags_personal_data(make_article, lead):
    article = make_article("社保问题", "请联系王先生 13812345678。", publish=False)
    with pytest.raises(services.InvalidInput, match="确认"):
        services.article_publish(user=lead, article_id=article.pk, confirmed=False)
    with pytest.raises(services.InvalidInput, match="个人信息"):
        services.article_publish(user=lead, article_id=article.pk, confirmed=True)
    assert Article.objects.get(pk=article.pk).state == ArticleState.DRAFT
    published = services.article_publish(
        user=lead, article_id=article.pk, confirmed=True, public_details_confirmed=True
    )
    assert published.state == ArticleState.PUBLISHED


def test_staff_of_another_bureau_cannot_write_or_edit(make_article, finance, employment):
    other = factories.staff_user("officer", finance)
    hrss_article = make_article("问题", "解答")
    with pytest.raises(services.NotAllowed):
        services.article_update(user=other, article_id=hrss_article.pk, data={"answer": "篡改"})
    with pytest.raises(services.NotAllowed):
        services.article_create(
            user=other, bureau_id=hrss_article.bureau_id, data={"question": "q", "answer": "a", "category": employment}
        )
    assert Article.objects.get(pk=hrss_article.pk).answer == "解答"


def test_officer_edit_of_published_article_returns_it_to_review(make_article, officer):
    article = make_article("问题一", "旧解答")
    updated = services.article_update(user=officer, article_id=article.pk, data={"answer": "新解答"})
    assert updated.state == ArticleState.IN_REVIEW
    edit = updated.events.get(kind="edited")
    assert edit.changes == {"answer": ["旧解答", "新解答"]}


def test_send_back_and_retire_need_reasons(make_article, officer, lead):
    article = make_article("问题", "解答", publish=False)
    services.article_submit(user=officer, article_id=article.pk)
    with pytest.raises(services.InvalidInput):
        services.article_send_back(user=lead, article_id=article.pk, reason="  ")
    services.article_send_back(user=lead, article_id=article.pk, reason="请补充政策依据")
    assert Article.objects.get(pk=article.pk).state == ArticleState.DRAFT
    with pytest.raises(services.InvalidInput):
        services.article_retire(user=lead, article_id=article.pk, reason="")
    services.article_retire(user=lead, article_id=article.pk, reason="政策已废止")
    assert Article.objects.get(pk=article.pk).state == ArticleState.RETIRED
    with pytest.raises(services.StateConflict):
        services.article_update(user=officer, article_id=article.pk, data={"answer": "x"})


def _replied_appeal(hrss, officer, **overrides):
    submitted = factories.submit(region=hrss.region, **overrides)
    appeal = appeal_services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    return appeal_services.appeal_submit_reply(
        appeal_id=appeal.pk,
        user=officer,
        reply="您好，贵公司可申请稳岗返还。如有疑问请联系李四 13912345678，或到新城路12号3栋咨询。",
    )


def test_promote_replied_appeal_removes_personal_details(hrss, officer, lead):
    appeal = _replied_appeal(
        hrss,
        officer,
        enterprise_name="佛山市南海区华辉五金制品有限公司",
        contact_name="李四",
        title="华辉五金想问稳岗返还",
        description="我们是佛山市南海区华辉五金制品有限公司，联系人李四，电话13912345678，想问稳岗返还怎么申请。",
    )
    promotion = services.article_promote_from_appeal(user=officer, appeal_id=appeal.pk)
    article = promotion.article
    assert article.state == ArticleState.IN_REVIEW
    assert article.source_appeal_id == appeal.pk
    everything = article.question + article.answer
    for secret in ("华辉五金", "李四", "13912345678", "新城路12号"):
        assert secret not in everything, secret
    assert promotion.removed
    event = article.events.get(kind=ArticleEvent.Kind.PROMOTED)
    assert "已自动隐去" in event.note
    # One click only: promoting the same appeal again is refused.
    with pytest.raises(services.StateConflict):
        services.article_promote_from_appeal(user=officer, appeal_id=appeal.pk)
    # The lead still reviews before anything is public.
    assert not Article.objects.live().filter(pk=article.pk).exists()
    services.article_publish(user=lead, article_id=article.pk, confirmed=True)
    assert Article.objects.live().filter(pk=article.pk).exists()


def test_only_replied_appeals_of_ones_own_bureau_can_be_promoted(hrss, finance, officer):
    submitted = factories.submit(region=hrss.region)
    with pytest.raises(services.StateConflict):
        services.article_promote_from_appeal(user=officer, appeal_id=submitted.appeal.pk)
    appeal = _replied_appeal(hrss, officer)
    stranger = factories.staff_user("officer", finance)
    with pytest.raises(services.NotAllowed):
        services.article_promote_from_appeal(user=stranger, appeal_id=appeal.pk)


def test_expiry_sweep_retires_warns_once_and_hides_expired(make_article, lead, officer):
    today = timezone.localdate()
    ending = make_article("即将到期", "解答", valid_until=today + timedelta(days=3))
    later = make_article("长期有效", "解答", valid_until=today + timedelta(days=90))
    expired = make_article("已到期", "解答", valid_until=today + timedelta(days=1))
    # The day after its end date the expired one is gone from public queries before any sweep runs.
    assert not Article.objects.live(on=today + timedelta(days=2)).filter(pk=expired.pk).exists()
    result = services.articles_expiry_sweep(today=today + timedelta(days=2))
    assert (result.expired, result.warned) == (1, 1)
    assert Article.objects.get(pk=expired.pk).state == ArticleState.RETIRED
    assert Article.objects.get(pk=later.pk).state == ArticleState.PUBLISHED
    warned = OutboxEvent.objects.get(event_type="knowledge.expiring")
    assert warned.payload["article_id"] == ending.pk
    assert warned.payload["author_id"] == officer.pk
    again = services.articles_expiry_sweep(today=today + timedelta(days=2))
    assert (again.expired, again.warned) == (0, 0)
    assert OutboxEvent.objects.filter(event_type="knowledge.expiring").count() == 1


def test_expiry_warning_reaches_author_and_leads(make_article, officer, lead):
    from notifications import recipients

    make_article("即将到期", "解答", valid_until=timezone.localdate() + timedelta(days=2))
    services.articles_expiry_sweep()
    event = OutboxEvent.objects.get(event_type="knowledge.expiring")
    users = {r.user_id for r in recipients.resolve(event)}
    assert users == {officer.pk, lead.pk}


def test_invalid_date_range_is_refused(hrss, officer, employment):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.article_create(
            user=officer,
            bureau_id=hrss.pk,
            data={
                "question": "q",
                "answer": "a",
                "category": employment,
                "valid_from": date(2026, 5, 1),
                "valid_until": date(2026, 4, 1),
            },
        )
    assert not Article.objects.exists()
