"""Full-text search over appeals (title, description, tracking number), with two backends.

``get_backend()`` returns the Elasticsearch backend when ``settings.ELASTICSEARCH_URL`` is set and
the database backend otherwise. Both honour one contract (``tests/appeals/console/test_search.py``
runs the same tests against each):

- ``filter_queryset(queryset, query)`` narrows an already permission-scoped queryset, so search
  never widens what a user may see;
- ``search_ids(query, limit=…)`` returns matching appeal ids, best match first;
- ``index_appeal(appeal)`` / ``remove_appeal(appeal_id)`` keep the index current (no-ops for the
  database backend), and ``rebuild()`` re-indexes everything (``manage.py search_index --rebuild``).

Every term of the query must match (AND). The database backend uses case-insensitive substring
matching, which works for Chinese without a tokenizer on SQLite and PostgreSQL alike (PostgreSQL's
built-in text search configurations do not segment Chinese). The Elasticsearch backend analyses
title and description with the built-in ``cjk`` analyzer (overlapping CJK bigrams), so "招工" finds
"招工困难" and word order inside a phrase matters less. Indexing happens after commit, in a Celery
task, whenever an appeal is saved (see ``connect_signals``).
"""

from __future__ import annotations

import contextlib
import logging
from functools import cache
from typing import Any, Protocol

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_ES_HITS = 1000


def query_terms(query: str) -> list[str]:
    """Split a search box entry into terms (whitespace, full- or half-width), dropping empties."""
    text = (query or "")[:MAX_QUERY_LENGTH].replace("\u3000", " ")
    return [term for term in text.split() if term]


class SearchBackend(Protocol):
    name: str

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet: ...

    def search_ids(self, query: str, *, limit: int = 100) -> list[int]: ...

    def index_appeal(self, appeal: Any) -> None: ...

    def remove_appeal(self, appeal_id: int) -> None: ...

    def rebuild(self) -> int: ...


class DatabaseSearch:
    """Substring search in the database: always available, no index to maintain."""

    name = "database"

    def _condition(self, query: str) -> Q | None:
        terms = query_terms(query)
        if not terms:
            return None
        condition = Q()
        for term in terms:
            condition &= Q(title__icontains=term) | Q(description__icontains=term) | Q(tracking_number=term)
        return condition

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet:
        condition = self._condition(query)
        return queryset if condition is None else queryset.filter(condition)

    def search_ids(self, query: str, *, limit: int = 100) -> list[int]:
        from appeals.models import Appeal

        condition = self._condition(query)
        if condition is None:
            return []
        return list(
            Appeal.objects.filter(condition).order_by("-submitted_at", "-id").values_list("pk", flat=True)[:limit]
        )

    def index_appeal(self, appeal: Any) -> None:
        """Nothing to do: the database is the index."""

    def remove_appeal(self, appeal_id: int) -> None:
        """Nothing to do: the database is the index."""

    def rebuild(self) -> int:
        from appeals.models import Appeal

        return Appeal.objects.count()


@cache
def _document_class(index_name: str):
    """The elasticsearch-dsl document for appeals, built lazily so the import is optional."""
    from elasticsearch_dsl import Date, Document, Integer, Keyword, Text

    class AppealDocument(Document):
        tracking_number = Keyword()
        title = Text(analyzer="cjk", fields={"raw": Keyword()})
        description = Text(analyzer="cjk")
        state = Keyword()
        bureau_id = Integer()
        category_id = Integer()
        region_id = Integer()
        submitted_at = Date()

        class Index:
            name = index_name
            settings = {"number_of_shards": 1, "number_of_replicas": 0}

    return AppealDocument


class ElasticsearchSearch:
    """Elasticsearch via elasticsearch-dsl; one document per appeal, ``cjk``-analysed text."""

    name = "elasticsearch"

    def __init__(self, url: str, index_prefix: str = "huying") -> None:
        from elasticsearch_dsl import connections

        self.alias = f"huying-search-{url}"
        connections.create_connection(alias=self.alias, hosts=[url], request_timeout=5)
        self.index_name = f"{index_prefix}-appeals"
        self.document = _document_class(self.index_name)

    def _ensure_index(self) -> None:
        index = self.document._index
        if not index.exists(using=self.alias):
            self.document.init(using=self.alias)

    def _to_document(self, appeal: Any):
        return self.document(
            meta={"id": appeal.pk},
            tracking_number=appeal.tracking_number,
            title=appeal.title,
            description=appeal.description,
            state=appeal.state,
            bureau_id=appeal.bureau_id,
            category_id=appeal.category_id,
            region_id=appeal.region_id,
            submitted_at=appeal.submitted_at,
        )

    def build_search(self, query: str, *, limit: int = 100):
        """The elasticsearch-dsl Search for ``query``: every term must match the title (boosted), the
        description (as a phrase, so CJK bigrams stay in order) or the tracking number exactly."""
        from elasticsearch_dsl import Q as EsQ

        must = [
            EsQ(
                "bool",
                should=[
                    EsQ("match_phrase", title={"query": term, "boost": 2}),
                    EsQ("match_phrase", description=term),
                    EsQ("term", tracking_number=term),
                ],
                minimum_should_match=1,
            )
            for term in query_terms(query)
        ]
        search = self.document.search(using=self.alias).query(EsQ("bool", must=must)).source(False)
        return search.extra(size=min(limit, MAX_ES_HITS))

    def search_ids(self, query: str, *, limit: int = 100) -> list[int]:
        if not query_terms(query):
            return []
        return [int(hit.meta.id) for hit in self.build_search(query, limit=limit).execute()]

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet:
        if not query_terms(query):
            return queryset
        return queryset.filter(pk__in=self.search_ids(query, limit=MAX_ES_HITS))

    def index_appeal(self, appeal: Any) -> None:
        self._ensure_index()
        self._to_document(appeal).save(using=self.alias, refresh=True)

    def remove_appeal(self, appeal_id: int) -> None:
        from elasticsearch import NotFoundError

        with contextlib.suppress(NotFoundError):
            self.document(meta={"id": appeal_id}).delete(using=self.alias, refresh=True)

    def rebuild(self) -> int:
        """Drop and re-create the index, then bulk-load every appeal in batches."""
        from elasticsearch.helpers import bulk
        from elasticsearch_dsl import connections

        from appeals.models import Appeal

        index = self.document._index
        index.delete(using=self.alias, ignore_unavailable=True)
        self.document.init(using=self.alias)
        client = connections.get_connection(self.alias)
        count = 0

        def actions():
            nonlocal count
            for appeal in Appeal.objects.order_by("pk").iterator(chunk_size=1000):
                count += 1
                yield self._to_document(appeal).to_dict(include_meta=True)

        bulk(client, actions(), chunk_size=500)
        index.refresh(using=self.alias)
        return count


def get_backend() -> SearchBackend:
    """The configured backend: Elasticsearch when ELASTICSEARCH_URL is set, else the database."""
    url = getattr(settings, "ELASTICSEARCH_URL", "")
    if url:
        return _elasticsearch_backend(url, getattr(settings, "ELASTICSEARCH_INDEX_PREFIX", "huying"))
    return DatabaseSearch()


@cache
def _elasticsearch_backend(url: str, prefix: str) -> ElasticsearchSearch:
    return ElasticsearchSearch(url, prefix)


# --- Keeping the index current --------------------------------------------------------------------


@shared_task(name="appeals.search.index_appeal", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def index_appeal_task(appeal_id: int) -> None:
    """Re-read the appeal and (re)index it; idempotent, so retries and duplicates are harmless."""
    from appeals.models import Appeal

    backend = get_backend()
    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is None:
        backend.remove_appeal(appeal_id)
    else:
        backend.index_appeal(appeal)


def _queue_index(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not getattr(settings, "ELASTICSEARCH_URL", ""):
        return
    appeal_id = instance.pk

    def send() -> None:
        try:
            index_appeal_task.delay(appeal_id)
        except Exception:  # a broker outage must not break the write; rebuild recovers
            logger.warning("Could not queue search indexing for appeal %s", appeal_id, exc_info=True)

    transaction.on_commit(send)


def connect_signals() -> None:
    """Index appeals after every committed save (a decoupled hook, so a signal is the right tool)."""
    from appeals.models import Appeal

    post_save.connect(_queue_index, sender=Appeal, dispatch_uid="appeals.search.index_on_save")
