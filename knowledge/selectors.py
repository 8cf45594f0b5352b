"""Reads for the knowledge base: public browsing and search, suggestions, staff lists, deflection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from appeals.permissions import user_bureau_id
from knowledge.index import current_index
from knowledge.models import Article, ArticleState, SuggestionSession
from knowledge.text import normalise
from routing.models import Category, Region


def region_scope(region: Region | None) -> frozenset[int]:
    """The region and every region above it: an article for a city applies to its districts."""
    ids: set[int] = set()
    seen = 0
    while region is not None and seen < 5:
        ids.add(region.pk)
        region = region.parent
        seen += 1
    return frozenset(ids)


def public_articles(
    *, query: str = "", category_id: int | None = None, region: Region | None = None, on: date | None = None
) -> QuerySet[Article]:
    """Published, valid articles for the public pages, filtered by text, category and region.

    The text filter matches every word of ``query`` in the question or answer (either language),
    after the same normalisation the suggestions use; results keep the newest first.
    """
    articles = Article.objects.live(on=on).select_related("category", "region", "bureau")
    if category_id:
        articles = articles.filter(category_id=category_id)
    if region is not None:
        articles = articles.filter(Q(region__isnull=True) | Q(region_id__in=region_scope(region)))
    for word in normalise(query).split()[:8]:
        articles = articles.filter(
            Q(question__icontains=word)
            | Q(answer__icontains=word)
            | Q(question_en__icontains=word)
            | Q(answer_en__icontains=word)
        )
    return articles


def public_article(*, article_id: int) -> Article | None:
    return Article.objects.live().select_related("category", "region", "bureau").filter(pk=article_id).first()


@dataclass(frozen=True)
class Suggestion:
    article: Article
    score: float


def suggestions_for(
    *, text: str, category_id: int | None = None, region: Region | None = None, limit: int = 3
) -> list[Suggestion]:
    """Up to ``limit`` live articles most similar to what the business is typing."""
    if len(normalise(text)) < 4:
        return []
    matches = current_index().search(text, limit=limit, category_id=category_id, region_ids=region_scope(region))
    if not matches:
        return []
    by_id = Article.objects.live().select_related("category").in_bulk([m.article_id for m in matches])
    return [Suggestion(by_id[m.article_id], m.score) for m in matches if m.article_id in by_id]


def staff_articles(*, user: Any, state: str = "") -> QuerySet[Article]:
    """The articles a staff member manages: their bureau's (administrators: all)."""
    articles = Article.objects.select_related("category", "region", "author", "bureau")
    if not user.is_superuser:
        bureau_id = user_bureau_id(user)
        if bureau_id is None:
            return articles.none()
        articles = articles.filter(bureau_id=bureau_id)
    if state:
        articles = articles.filter(state=state)
    return articles.order_by("-updated_at", "-pk")


def staff_article(*, user: Any, article_id: int) -> Article | None:
    return staff_articles(user=user).prefetch_related("events__actor").filter(pk=article_id).first()


def review_queue_count(*, user: Any) -> int:
    return staff_articles(user=user, state=ArticleState.IN_REVIEW).count()


@dataclass(frozen=True)
class DeflectionRow:
    category: str
    sessions: int  # form visits that were shown at least one answer
    opened: int  # … in which the business opened an answer
    filed: int  # … that still filed
    deflected: int  # opened an answer and did not file (within the day)

    @property
    def deflection_rate(self) -> float | None:
        return self.deflected / self.sessions if self.sessions else None


def deflection_by_category(*, start: date, end: date) -> list[DeflectionRow]:
    """Suggestions shown, answers opened and appeals not filed after viewing, by category.

    A visit counts as deflected when the business opened an answer and had not filed a day later;
    visits younger than a day are left out of "deflected" (they may still file).
    """
    cutoff = timezone.now() - timedelta(days=1)
    names = {category.pk: category.display_name for category in Category.objects.all()}
    rows: dict[int | None, list[int]] = {}
    sessions = SuggestionSession.objects.filter(created_at__date__gte=start, created_at__date__lte=end).exclude(
        shown=[]
    )
    for category_id, opened, filed_at, created_at in sessions.values_list(
        "category_id", "opened", "filed_at", "created_at"
    ).iterator():
        row = rows.setdefault(category_id, [0, 0, 0, 0])
        row[0] += 1
        row[1] += 1 if opened else 0
        row[2] += 1 if filed_at else 0
        row[3] += 1 if opened and not filed_at and created_at < cutoff else 0
    result = [
        DeflectionRow(names.get(category_id, "—") if category_id else "—", *counts)
        for category_id, counts in rows.items()
    ]
    return sorted(result, key=lambda row: (-row.sessions, row.category))
