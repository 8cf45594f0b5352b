"""The in-memory similarity index behind "these may answer your question".

Published, valid articles are turned into TF-IDF vectors over the router's character n-grams and kept
in an inverted index (feature → articles), so a query touches only the articles that share a feature
with it instead of scoring every article. Each process keeps one index and rebuilds it when the set
of live articles changes; it checks for changes at most every ``KNOWLEDGE["INDEX_CHECK_SECONDS"]``
(a published or retired article shows up in suggestions within that time).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from knowledge.models import Article
from knowledge.text import match_features

logger = logging.getLogger(__name__)


def knowledge_setting(name: str, default):
    return getattr(settings, "KNOWLEDGE", {}).get(name, default)


@dataclass(frozen=True)
class IndexedArticle:
    id: int
    category_id: int
    region_id: int | None
    appeal_type: str


@dataclass(frozen=True)
class Match:
    article_id: int
    score: float


def _vector(features: list[str], idf: dict[str, float]) -> dict[str, float]:
    counts = Counter(f for f in features if f in idf)
    weights = {f: (1.0 + math.log(c)) * idf[f] for f, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {f: w / norm for f, w in weights.items()}


class SuggestionIndex:
    def __init__(self, rows: list[tuple[IndexedArticle, list[str]]]) -> None:
        self.articles = [article for article, _features in rows]
        document_frequency: Counter[str] = Counter()
        for _article, features in rows:
            document_frequency.update(set(features))
        total = max(len(rows), 1)
        # Features in more than MAX_DF of the articles say nothing about any one of them, and their
        # postings would make every query walk most of the index.
        max_df = max(2, int(total * knowledge_setting("MAX_DOCUMENT_FREQUENCY", 0.2)))
        self.idf = {f: math.log((1 + total) / (1 + df)) + 1.0 for f, df in document_frequency.items() if df <= max_df}
        positions: dict[str, array] = {}
        weights: dict[str, array] = {}
        for position, (_article, features) in enumerate(rows):
            for feature, weight in _vector(features, self.idf).items():
                if feature not in positions:
                    positions[feature] = array("i")
                    weights[feature] = array("f")
                positions[feature].append(position)
                weights[feature].append(weight)
        # Two packed arrays per feature: about a tenth of the memory of lists of tuples.
        self.postings: dict[str, tuple[array, array]] = {f: (positions[f], weights[f]) for f in positions}

    def search(
        self,
        text: str,
        *,
        limit: int = 3,
        category_id: int | None = None,
        region_ids: frozenset[int] = frozenset(),
        appeal_type: str = "",
        min_score: float | None = None,
    ) -> list[Match]:
        """The best ``limit`` articles for ``text``, most similar first.

        An article limited to a region is offered only in that region (``region_ids`` holds the
        appeal's region and its ancestors); an article for another category is offered too, at a
        discount, since businesses often pick the wrong category.
        """
        query = _vector(match_features(text), self.idf)
        if not query:
            return []
        # A long description has hundreds of n-grams; its most distinctive ones decide the ranking,
        # and walking only their postings bounds the cost of a query whatever its length.
        top = knowledge_setting("MAX_QUERY_FEATURES", 80)
        if len(query) > top:
            query = dict(sorted(query.items(), key=lambda item: -item[1])[:top])
        scores: dict[int, float] = {}
        for feature, weight in query.items():
            posting = self.postings.get(feature)
            if posting is None:
                continue
            for position, article_weight in zip(*posting, strict=True):
                scores[position] = scores.get(position, 0.0) + weight * article_weight
        other_category = knowledge_setting("OTHER_CATEGORY_FACTOR", 0.7)
        threshold = knowledge_setting("MIN_SCORE", 0.18) if min_score is None else min_score
        ranked: list[tuple[float, int]] = []
        for position, score in scores.items():
            article = self.articles[position]
            if article.region_id is not None and article.region_id not in region_ids:
                continue
            if appeal_type and article.appeal_type and article.appeal_type != appeal_type:
                continue
            if category_id is not None and article.category_id != category_id:
                score *= other_category
            if score >= threshold:
                ranked.append((score, article.id))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        return [Match(article_id, round(score, 4)) for score, article_id in ranked[:limit]]


_lock = threading.Lock()
_state: dict[str, object] = {"index": None, "generation": None, "checked": 0.0, "building": False}


def _generation(today: date) -> tuple:
    live = Article.objects.live(on=today)
    stats = live.aggregate(count=Count("pk"), latest=Max("updated_at"))
    return (today, stats["count"], stats["latest"])


def _build(today: date) -> SuggestionIndex:
    rows = []
    for article in Article.objects.live(on=today).only(
        "pk", "category_id", "region_id", "appeal_type", "question", "answer", "question_en"
    ):
        text = f"{article.question} {article.question} {article.question_en} {article.answer}"
        rows.append(
            (
                IndexedArticle(article.pk, article.category_id, article.region_id, article.appeal_type),
                match_features(text),
            )
        )
    return SuggestionIndex(rows)


def _rebuild_in_background(today: date, generation: tuple) -> None:
    from django.db import connection

    try:
        index = _build(today)
        with _lock:
            _state.update(index=index, generation=generation)
    except Exception:  # a failed rebuild keeps serving the previous index; the next check retries
        logger.exception("knowledge: rebuilding the suggestion index failed")
    finally:
        with _lock:
            _state["building"] = False
        connection.close()


def current_index() -> SuggestionIndex:
    """This process's index, rebuilt when the live articles have changed (checked every few seconds).

    The first index is built in the request that needs it. Later rebuilds run in a background thread
    while the previous index keeps answering (``KNOWLEDGE["BACKGROUND_REBUILD"]``), so publishing an
    article never makes a business wait for the whole index to be rebuilt.
    """
    now = time.monotonic()
    index = _state["index"]
    interval = knowledge_setting("INDEX_CHECK_SECONDS", 5)
    if isinstance(index, SuggestionIndex) and now - float(_state["checked"]) < interval:  # type: ignore[arg-type]
        return index
    today = timezone.localdate()
    generation = _generation(today)
    with _lock:
        _state["checked"] = now
        index = _state["index"]
        if isinstance(index, SuggestionIndex) and _state["generation"] == generation:
            return index
        if isinstance(index, SuggestionIndex) and knowledge_setting("BACKGROUND_REBUILD", True):
            if not _state["building"]:
                _state["building"] = True
                thread = threading.Thread(
                    target=_rebuild_in_background, args=(today, generation), name="knowledge-index", daemon=True
                )
                _state["thread"] = thread
                thread.start()
            return index
    built = _build(today)
    with _lock:
        _state.update(index=built, generation=generation)
    return built


def mark_stale() -> None:
    """This process changed articles: check for changes on the next query instead of in a few seconds."""
    with _lock:
        _state["checked"] = 0.0


def reset_index() -> None:
    """Forget the index (tests, and this process's own writes) so the next query rebuilds it."""
    with _lock:
        _state.update(index=None, generation=None, checked=0.0)
