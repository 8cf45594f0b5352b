"""Every write to the knowledge base: articles, their review, expiry, and suggestion records.

Bureau staff (officers and leads) write articles for their own bureau; only the bureau's lead
publishes, after reviewing that the text holds no personal data. Each step appends an
``ArticleEvent`` (who, when, what changed). Errors a person can act on are ``KnowledgeError``
subclasses with a translated sentence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Appeal, AppealState
from appeals.permissions import user_bureau_id
from knowledge.index import knowledge_setting, mark_stale
from knowledge.models import Article, ArticleEvent, ArticleState, SuggestionSession
from knowledge.text import name_variants, personal_data_left, redact
from notifications import outbox


class KnowledgeError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(KnowledgeError):
    pass


class StateConflict(KnowledgeError):
    pass


class InvalidInput(KnowledgeError):
    pass


# Fields staff edit; the rest follow from the article's life.
EDITABLE_FIELDS = (
    "category",
    "region",
    "appeal_type",
    "question",
    "answer",
    "question_en",
    "answer_en",
    "policy_source",
    "policy_url",
    "valid_from",
    "valid_until",
)


def can_write(user: Any, *, bureau_id: int | None) -> bool:
    """Officers and leads write for their own bureau; administrators for any."""
    if user.is_superuser:
        return True
    return bool(bureau_id is not None and user.has_perm("appeals.handle_appeal") and user_bureau_id(user) == bureau_id)


def can_review(user: Any, *, bureau_id: int | None) -> bool:
    """The bureau's lead (负责人) reviews and publishes; administrators may too."""
    if user.is_superuser:
        return True
    return can_write(user, bureau_id=bureau_id) and user.has_perm("appeals.review_appeal")


def _event(article: Article, kind: str, *, actor: Any = None, note: str = "", changes: dict | None = None) -> None:
    ArticleEvent.objects.create(article=article, kind=kind, actor=actor, note=note, changes=changes or {})


def _after_commit_reindex() -> None:
    transaction.on_commit(mark_stale)


def _locked(article_id: int) -> Article:
    try:
        return Article.objects.select_for_update().get(pk=article_id)
    except Article.DoesNotExist as exc:
        raise InvalidInput(_("没有找到这条政策问答。")) from exc


def _serialisable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def article_create(*, user: Any, bureau_id: int, data: dict[str, Any]) -> Article:
    """Create a draft for ``bureau_id`` from cleaned form ``data``. Raises NotAllowed."""
    if not can_write(user, bureau_id=bureau_id):
        raise NotAllowed(_("只能为本单位撰写政策问答。"))
    article = Article(bureau_id=bureau_id, author=user, state=ArticleState.DRAFT)
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(article, name, data[name])
    article.full_clean()
    article.save()
    _event(article, ArticleEvent.Kind.CREATED, actor=user)
    return article


@transaction.atomic
def article_update(*, user: Any, article_id: int, data: dict[str, Any]) -> Article:
    """Change an article's text or scope. A published article goes back to review when edited."""
    article = _locked(article_id)
    if not can_write(user, bureau_id=article.bureau_id):
        raise NotAllowed(_("只能修改本单位的政策问答。"))
    if article.state == ArticleState.RETIRED:
        raise StateConflict(_("已下线的问答不能再修改；如需恢复，请新建一条。"))
    changes = {}
    for name in EDITABLE_FIELDS:
        if name in data and getattr(article, name) != data[name]:
            changes[name] = [_serialisable(getattr(article, name)), _serialisable(data[name])]
            setattr(article, name, data[name])
    if not changes:
        return article
    note = ""
    if article.state == ArticleState.PUBLISHED and not can_review(user, bureau_id=article.bureau_id):
        article.state = ArticleState.IN_REVIEW
        note = _("已发布的问答修改后需要负责人重新审核。")
    if "valid_until" in changes:
        article.expiry_warned_at = None
    article.full_clean()
    article.save()
    _event(article, ArticleEvent.Kind.EDITED, actor=user, note=note, changes=changes)
    _after_commit_reindex()
    return article


@transaction.atomic
def article_submit(*, user: Any, article_id: int) -> Article:
    """Send a draft to the bureau lead for review."""
    article = _locked(article_id)
    if not can_write(user, bureau_id=article.bureau_id):
        raise NotAllowed(_("只能提交本单位的政策问答。"))
    if article.state != ArticleState.DRAFT:
        raise StateConflict(_("只有草稿可以提交审核。"))
    article.state = ArticleState.IN_REVIEW
    article.save(update_fields=["state", "updated_at"])
    _event(article, ArticleEvent.Kind.SUBMITTED, actor=user)
    return article


@transaction.atomic
def article_publish(*, user: Any, article_id: int, confirmed: bool, public_details_confirmed: bool = False) -> Article:
    """The lead publishes after confirming the text holds no personal data.

    If the text still contains something that looks like a phone number, ID, address or name, the
    lead must also confirm that these are public details (a hotline, a government address).
    """
    article = _locked(article_id)
    if not can_review(user, bureau_id=article.bureau_id):
        raise NotAllowed(_("只有本单位负责人可以审核发布政策问答。"))
    if article.state not in (ArticleState.DRAFT, ArticleState.IN_REVIEW):
        raise StateConflict(_("这条问答当前不能发布。"))
    if not confirmed:
        raise InvalidInput(_("请先确认已核对全文，没有企业或个人信息。"))
    left = personal_data_left(" ".join([article.question, article.answer, article.question_en, article.answer_en]))
    if left and not public_details_confirmed:
        raise InvalidInput(
            _("文中仍有疑似个人信息（%(items)s）。请修改，或确认这些是公开的信息（如政务热线）后再发布。")
            % {"items": "、".join(left)}
        )
    if article.valid_until is not None and article.valid_until < timezone.localdate():
        raise InvalidInput(_("这条问答的失效日期已过，请先修改有效期。"))
    article.state = ArticleState.PUBLISHED
    article.reviewed_by = user
    article.published_at = timezone.now()
    article.save(update_fields=["state", "reviewed_by", "published_at", "updated_at"])
    _event(article, ArticleEvent.Kind.PUBLISHED, actor=user, note="；".join(left))
    _after_commit_reindex()
    return article


@transaction.atomic
def article_send_back(*, user: Any, article_id: int, reason: str) -> Article:
    """The lead returns an article under review to its author as a draft, with a reason."""
    article = _locked(article_id)
    if not can_review(user, bureau_id=article.bureau_id):
        raise NotAllowed(_("只有本单位负责人可以审核政策问答。"))
    if article.state != ArticleState.IN_REVIEW:
        raise StateConflict(_("只有待审核的问答可以退回修改。"))
    if not reason.strip():
        raise InvalidInput(_("请写明退回修改的原因。"))
    article.state = ArticleState.DRAFT
    article.save(update_fields=["state", "updated_at"])
    _event(article, ArticleEvent.Kind.SENT_BACK, actor=user, note=reason.strip())
    return article


@transaction.atomic
def article_retire(*, user: Any, article_id: int, reason: str) -> Article:
    """Take an article off the public pages (policy replaced, answer wrong), with a reason."""
    article = _locked(article_id)
    if not can_review(user, bureau_id=article.bureau_id):
        raise NotAllowed(_("只有本单位负责人可以下线政策问答。"))
    if article.state == ArticleState.RETIRED:
        raise StateConflict(_("这条问答已经下线。"))
    if not reason.strip():
        raise InvalidInput(_("请写明下线原因。"))
    article.state = ArticleState.RETIRED
    article.save(update_fields=["state", "updated_at"])
    _event(article, ArticleEvent.Kind.RETIRED, actor=user, note=reason.strip())
    _after_commit_reindex()
    return article


PROMOTABLE_STATES = (AppealState.REPLIED, AppealState.CLOSED)


@dataclass(frozen=True)
class Promotion:
    article: Article
    removed: list[str]


@transaction.atomic
def article_promote_from_appeal(*, user: Any, appeal_id: int) -> Promotion:
    """Turn a replied appeal (typically an enquiry) into an article awaiting the lead's review.

    The appeal's question and reply are copied with personal details removed (the enterprise's and
    contact's names, phone numbers, credit codes, IDs, addresses, e-mail addresses); what was removed
    is listed for the lead, who must still confirm before publishing.
    """
    appeal = Appeal.objects.select_related("enterprise").filter(pk=appeal_id).first()
    if appeal is None or not can_write(user, bureau_id=appeal.bureau_id):
        raise NotAllowed(_("只能把本单位已答复的诉求转为政策问答。"))
    if appeal.state not in PROMOTABLE_STATES or not appeal.reply.strip():
        raise StateConflict(_("只有已答复的诉求可以转为政策问答。"))
    existing = Article.objects.filter(source_appeal=appeal).exclude(state=ArticleState.RETIRED).first()
    if existing is not None:
        raise StateConflict(_("这件诉求已经转为政策问答（编号 %(id)s）。") % {"id": existing.pk})
    known = [
        *name_variants(appeal.enterprise.name),
        appeal.enterprise.credit_code,
        appeal.contact_name,
        appeal.contact_phone,
        appeal.contact_email,
        appeal.enterprise.phone,
        appeal.enterprise.contact_name,
        appeal.tracking_number,
    ]
    question = redact(appeal.title, known=known)
    body = redact(appeal.description, known=known)
    answer = redact(appeal.reply, known=known)
    removed: dict[str, int] = {}
    for part in (question, body, answer):
        for kind, count in part.found.items():
            removed[kind] = removed.get(kind, 0) + count
    article = Article.objects.create(
        bureau_id=appeal.bureau_id,
        category_id=appeal.category_id,
        region_id=None,
        question=question.text[:200],
        answer=f"{answer.text}",
        author=user,
        source_appeal=appeal,
        state=ArticleState.IN_REVIEW,
    )
    labels = question.labels + body.labels + answer.labels
    note = _("已自动隐去：%(items)s") % {"items": "、".join(labels)} if labels else _("未发现需要隐去的个人信息。")
    _event(article, ArticleEvent.Kind.PROMOTED, actor=user, note=note, changes={"removed": removed})
    return Promotion(article, labels)


# --- Expiry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpirySweep:
    expired: int
    warned: int


def articles_expiry_sweep(*, today: date | None = None) -> ExpirySweep:
    """Retire articles past their end date and warn owners of those ending soon. Idempotent.

    Expired articles already vanish from public pages and suggestions on their end date (the
    queries filter by date); this makes their state say so and records it. Owners (the author and
    the bureau's leads) are told ``KNOWLEDGE["EXPIRY_WARNING_DAYS"]`` days ahead, once per end date.
    """
    today = today or timezone.localdate()
    expired = 0
    with transaction.atomic():
        for article in Article.objects.select_for_update().filter(state=ArticleState.PUBLISHED, valid_until__lt=today):
            article.state = ArticleState.RETIRED
            article.save(update_fields=["state", "updated_at"])
            _event(article, ArticleEvent.Kind.EXPIRED, note=str(article.valid_until))
            expired += 1
    horizon = today + timedelta(days=knowledge_setting("EXPIRY_WARNING_DAYS", 14))
    warned = 0
    with transaction.atomic():
        for article in Article.objects.select_for_update().filter(
            state=ArticleState.PUBLISHED,
            valid_until__gte=today,
            valid_until__lte=horizon,
            expiry_warned_at__isnull=True,
        ):
            article.expiry_warned_at = timezone.now()
            article.save(update_fields=["expiry_warned_at"])
            _event(article, ArticleEvent.Kind.EXPIRY_WARNED, note=str(article.valid_until))
            outbox.emit(
                "knowledge.expiring",
                bureau=article.bureau,
                payload={
                    "article_id": article.pk,
                    "author_id": article.author_id,
                    "question": article.question,
                    "valid_until": article.valid_until.isoformat() if article.valid_until else "",
                    "article_url": settings.SITE_URL + reverse("knowledge:staff_edit", args=[article.pk]),
                },
                broadcast=False,
            )
            warned += 1
    if expired:
        transaction.on_commit(mark_stale)
    return ExpirySweep(expired, warned)


# --- Suggestions (deflection) ------------------------------------------------------------------------


def suggestion_record(*, token: str, shown: list[int], category_id: int | None) -> SuggestionSession | None:
    """Remember which articles a visit to the form was shown (the union over its queries)."""
    key = _token(token)
    if key is None:
        return None
    with transaction.atomic():
        session, _created = SuggestionSession.objects.select_for_update().get_or_create(token=key)
        merged = list(dict.fromkeys([*session.shown, *shown]))[:50]
        update = []
        if merged != session.shown:
            session.shown = merged
            update.append("shown")
        if category_id and session.category_id != category_id:
            session.category_id = category_id
            update.append("category")
        if update:
            session.save(update_fields=update)
    return session


def suggestion_opened(*, token: str, article_id: int) -> bool:
    """The business opened a suggested answer. Only articles it was shown count."""
    key = _token(token)
    if key is None:
        return False
    with transaction.atomic():
        session = SuggestionSession.objects.select_for_update().filter(token=key).first()
        if session is None or article_id not in session.shown:
            return False
        if article_id not in session.opened:
            session.opened = [*session.opened, article_id]
            session.save(update_fields=["opened"])
    return True


def suggestion_filed(*, token: str) -> bool:
    """The business sent the form after seeing suggestions: it still filed."""
    key = _token(token)
    if key is None:
        return False
    return bool(SuggestionSession.objects.filter(token=key, filed_at__isnull=True).update(filed_at=timezone.now()))


def _token(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(token))
    except (TypeError, ValueError):
        return None
