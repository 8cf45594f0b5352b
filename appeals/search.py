"""Full-text search over appeals, on the database (the embedded default) or a search server.

``get_backend()`` returns the database backend when ``settings.SEARCH_URL`` is empty, and
otherwise the search-server backend (``appeals.search_engine``: OpenSearch through opensearch-py,
or Elasticsearch 8+) wrapped so that a dead server never blocks anything: searches fall back to
the database (and skip the server for ``SEARCH_RETRY_AFTER_SECONDS``), indexing happens after
commit in a Celery task that retries on the clients' real connection errors, and a periodic
catch-up re-indexes what changed while the server was away. Both backends honour one contract
(``tests/appeals/console/test_search.py`` runs the same tests against each):

- ``filter_queryset(queryset, query)`` narrows an already permission-scoped queryset, so search
  never widens what a user may see; ``search_appeals`` does the same and also says which backend
  answered, how many matched, and a notice for staff when it fell back to the database;
- ``search_ids(query, limit=…)`` returns matching appeal ids, best match first;
- ``index_appeal`` / ``remove_appeal`` / ``rebuild`` / ``catch_up`` keep the index current
  (no-ops for the database, which is its own index).

Every term must match (AND). A term matches the title, description or enterprise name (as filed
or as the enterprise record says now) as text, or exactly a tracking number, credit code, contact
name or phone number. The database backend uses case-insensitive substring matching, which works
for Chinese on SQLite and PostgreSQL alike (PostgreSQL's text search does not segment Chinese).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.search_engine import EngineSearch, SearchUnavailable, Term, transient_errors

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
TRANSIENT_ERRORS = transient_errors()


def query_terms(query: str) -> list[str]:
    """Split a search box entry into terms (whitespace, full- or half-width), dropping empties."""
    text = (query or "")[:MAX_QUERY_LENGTH].replace("\u3000", " ")
    return [term for term in text.split() if term]


def parse_terms(query: str) -> list[Term]:
    """Terms, each with the credit code and E.164 phone number it may be."""
    from appeals import validators

    terms = []
    for text in query_terms(query):
        code = text.upper() if len(text) == 18 and text.isalnum() else ""
        phone = ""
        if sum(ch.isdigit() for ch in text) >= 7:
            try:
                phone = validators.normalise_phone(text)
            except ValidationError:
                phone = ""
        terms.append(Term(text=text, credit_code=code, phone=phone))
    return terms


@dataclass
class SearchOutcome:
    """What a search did: the narrowed queryset, who answered, how many matched, and what to tell staff."""

    queryset: QuerySet
    backend: str
    total: int | None = None  # matches before permission scoping (None: not counted)
    capped: bool = False  # the server matched more than SEARCH_MAX_MATCHES; only those are listed
    notice: str = ""


class SearchBackend(Protocol):
    name: str

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet: ...

    def search(self, queryset: QuerySet, query: str) -> SearchOutcome: ...

    def search_ids(self, query: str, *, limit: int = 100) -> list[int]: ...

    def index_appeal(self, appeal: Any) -> None: ...

    def remove_appeal(self, appeal_id: int) -> None: ...

    def rebuild(self) -> int: ...

    def catch_up(self, *, since: Any) -> int: ...


class DatabaseSearch:
    """Substring search in the database: always available, no index to maintain."""

    name = "database"

    def _condition(self, query: str) -> Q | None:
        terms = parse_terms(query)
        if not terms:
            return None
        condition = Q()
        for term in terms:
            either = (
                Q(title__icontains=term.text)
                | Q(description__icontains=term.text)
                | Q(tracking_number=term.text)
                | Q(enterprise_name__icontains=term.text)
                | Q(enterprise__name__icontains=term.text)
                | Q(contact_name=term.text)
            )
            if term.credit_code:
                either |= Q(enterprise_credit_code=term.credit_code) | Q(enterprise__credit_code=term.credit_code)
            if term.phone:
                either |= Q(contact_phone=term.phone)
            condition &= either
        return condition

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet:
        condition = self._condition(query)
        return queryset if condition is None else queryset.filter(condition)

    def search(self, queryset: QuerySet, query: str) -> SearchOutcome:
        return SearchOutcome(queryset=self.filter_queryset(queryset, query), backend=self.name)

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

    def catch_up(self, *, since: Any) -> int:
        return 0


# When the server last failed a search, per process: searches go to the database until then + the pause.
_server_down_until = 0.0


class ResilientSearch:
    """The search server first; the database whenever the server fails (never an error page)."""

    def __init__(self, engine: EngineSearch) -> None:
        self.engine = engine
        self.name = engine.name
        self.database = DatabaseSearch()

    @property
    def alias(self) -> str:
        return self.engine.alias

    def search(self, queryset: QuerySet, query: str) -> SearchOutcome:
        global _server_down_until
        terms = parse_terms(query)
        if not terms:
            return SearchOutcome(queryset=queryset, backend=self.name)
        if time.monotonic() >= _server_down_until:
            cap = int(getattr(settings, "SEARCH_MAX_MATCHES", 10_000))
            try:
                narrowed, total = self.engine.filter_ids(queryset, terms, cap=cap)
            except TRANSIENT_ERRORS:
                pause = float(getattr(settings, "SEARCH_RETRY_AFTER_SECONDS", 30))
                _server_down_until = time.monotonic() + pause
                logger.warning("Search server %s unreachable; using the database for %.0f s", self.engine.url, pause)
            else:
                notice = ""
                if total > cap:
                    notice = _("匹配的诉求共 %(total)d 件，只列出前 %(cap)d 件，请增加关键词缩小范围。") % {
                        "total": total,
                        "cap": cap,
                    }
                return SearchOutcome(narrowed, self.name, total=total, capped=total > cap, notice=notice)
        return SearchOutcome(
            queryset=self.database.filter_queryset(queryset, query),
            backend=self.database.name,
            notice=_("全文检索服务暂时不可用，以下是数据库中的查找结果（按关键词包含匹配，不按相关度排序）。"),
        )

    def filter_queryset(self, queryset: QuerySet, query: str) -> QuerySet:
        return self.search(queryset, query).queryset

    def search_ids(self, query: str, *, limit: int = 100) -> list[int]:
        global _server_down_until
        terms = parse_terms(query)
        if not terms:
            return []
        if time.monotonic() >= _server_down_until:
            try:
                return self.engine.search_ids(terms, limit=limit)
            except TRANSIENT_ERRORS:
                _server_down_until = time.monotonic() + float(getattr(settings, "SEARCH_RETRY_AFTER_SECONDS", 30))
                logger.warning("Search server %s unreachable; searching the database", self.engine.url)
        return self.database.search_ids(query, limit=limit)

    def index_appeal(self, appeal: Any) -> None:
        self.engine.index_appeal(appeal)

    def remove_appeal(self, appeal_id: int) -> None:
        self.engine.remove_appeal(appeal_id)

    def rebuild(self) -> int:
        return self.engine.rebuild()

    def catch_up(self, *, since: Any) -> int:
        return self.engine.catch_up(since=since)

    def refresh(self) -> None:
        self.engine.refresh()


def engine_config() -> tuple[str, str]:
    """(engine, http URL) from SEARCH_URL and SEARCH_ENGINE; ("", "") means the database.

    ``opensearch://host:9200`` and ``elasticsearch+https://host:9200`` name the engine in the URL;
    a plain http(s) URL takes SEARCH_ENGINE.
    """
    url = getattr(settings, "SEARCH_URL", "") or getattr(settings, "ELASTICSEARCH_URL", "")
    if not url:
        return "", ""
    parts = urlsplit(url)
    scheme, _plus, transport = parts.scheme.partition("+")
    if scheme in ("opensearch", "elasticsearch"):
        return scheme, urlunsplit(parts._replace(scheme=transport or "http"))
    return getattr(settings, "SEARCH_ENGINE", "") or "opensearch", url


def get_backend() -> SearchBackend:
    """The configured backend: the search server (with database fallback) or the database."""
    engine, url = engine_config()
    if not engine:
        return DatabaseSearch()
    prefix = getattr(settings, "SEARCH_INDEX_PREFIX", "") or getattr(settings, "ELASTICSEARCH_INDEX_PREFIX", "huying")
    return _server_backend(engine, url, prefix)


@cache
def _server_backend(engine: str, url: str, prefix: str) -> ResilientSearch:
    return ResilientSearch(EngineSearch(url, engine=engine, index_prefix=prefix))


def search_appeals(*, queryset: QuerySet, query: str) -> SearchOutcome:
    """Narrow a permission-scoped queryset by a staff search, saying how (for the console's notice)."""
    return get_backend().search(queryset, query)


# --- Keeping the index current --------------------------------------------------------------------


@shared_task(
    name="appeals.search.index_appeal",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
    time_limit=60,
)
def index_appeal_task(appeal_id: int) -> None:
    """Re-read the appeal and (re)index it; idempotent, so retries and duplicates are harmless.

    Retries with backoff (5 s … 10 min) on the clients' connection errors; past that the periodic
    catch-up finds the appeal.
    """
    from appeals.models import Appeal

    backend = get_backend()
    appeal = Appeal.objects.select_related("enterprise").filter(pk=appeal_id).first()
    if appeal is None:
        backend.remove_appeal(appeal_id)
    else:
        backend.index_appeal(appeal)


@shared_task(name="appeals.search.catch_up", time_limit=30 * 60, soft_time_limit=29 * 60)
def catch_up_task() -> int:
    """Re-index appeals changed in the last SEARCH_CATCH_UP_HOURS that the index lacks or holds older.

    Beat runs it every few minutes; with the server down it logs and returns 0 (the next run
    tries again). Returns how many appeals it re-indexed.
    """
    backend = get_backend()
    if backend.name == DatabaseSearch.name:
        return 0
    since = timezone.now() - timedelta(hours=int(getattr(settings, "SEARCH_CATCH_UP_HOURS", 48)))
    try:
        count = backend.catch_up(since=since)
    except TRANSIENT_ERRORS:
        logger.warning("Search catch-up skipped: the search server is unreachable")
        return 0
    if count:
        logger.info("Search catch-up re-indexed %d appeals", count)
    return count


def _queue_index(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not engine_config()[0]:
        return
    appeal_id = instance.pk

    def send() -> None:
        try:
            index_appeal_task.delay(appeal_id)
        except Exception:  # a broker outage must not break the write; the catch-up task recovers
            logger.warning("Could not queue search indexing for appeal %s", appeal_id, exc_info=True)

    transaction.on_commit(send)


def connect_signals() -> None:
    """Index appeals after every committed save (a decoupled hook, so a signal is the right tool)."""
    from appeals.models import Appeal

    post_save.connect(_queue_index, sender=Appeal, dispatch_uid="appeals.search.index_on_save")


__all__ = [
    "DatabaseSearch",
    "EngineSearch",
    "ResilientSearch",
    "SearchOutcome",
    "SearchUnavailable",
    "catch_up_task",
    "get_backend",
    "index_appeal_task",
    "search_appeals",
]
