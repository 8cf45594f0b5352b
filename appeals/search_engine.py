"""The search-server backend of ``appeals.search``: OpenSearch (opensearch-py) or Elasticsearch 8+.

Both clients speak the same REST API for what is used here, so one backend drives either through
a small adapter (``_Client``); the engine comes from ``settings.SEARCH_ENGINE`` or the URL scheme
(see ``appeals.search.engine_config``). The Elasticsearch 8 client refuses servers that do not
identify as Elasticsearch 8+, so OpenSearch, osmem and Elasticsearch 7.10 take the OpenSearch
client.

- **Alias.** Documents are read and written through the alias ``<prefix>-appeals``; a rebuild
  loads a fresh index ``<prefix>-appeals-<timestamp>`` and swaps the alias in one atomic request,
  so searches never see a half-built index (zero-downtime re-index).
- **No refresh per save.** Writes rely on the index's refresh interval (1 s); only rebuilds and
  tests refresh explicitly.
- **No silent cap.** ``matching_ids`` pages through every hit with ``search_after`` up to
  ``SEARCH_MAX_MATCHES`` and returns the true total, so callers can say "first N of M".
- **Catch-up.** ``catch_up`` compares the ``updated_at`` of recently changed appeals with what
  the index holds and re-indexes the difference: an appeal saved while the server was down is
  found once it is back.
- **Personal data.** The index holds contact names and keyed digests of phone numbers, never
  the numbers themselves; results are appeal ids, displayed under the console's masking rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

PAGE = 1000


class SearchUnavailable(Exception):
    """The search server could not be reached or is overloaded (a transient condition)."""


def transient_errors() -> tuple[type[BaseException], ...]:
    """Both clients' real connection and timeout errors (they do not subclass the builtin ConnectionError)."""
    import elastic_transport
    import opensearchpy

    return (
        SearchUnavailable,
        elastic_transport.ConnectionError,
        elastic_transport.ConnectionTimeout,
        opensearchpy.ConnectionError,
        opensearchpy.ConnectionTimeout,
    )


def phone_token(phone: str) -> str:
    """A keyed digest of an E.164 number: searchable by exact number, useless if the index leaks."""
    return hmac.new(settings.SECRET_KEY.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:32]


def _mapping() -> dict[str, Any]:
    cjk_text = {"type": "text", "analyzer": "cjk"}
    return {
        "properties": {
            "appeal_id": {"type": "long"},
            "tracking_number": {"type": "keyword"},
            "title": {**cjk_text, "fields": {"raw": {"type": "keyword"}}},
            "description": cjk_text,
            "enterprise_names": cjk_text,  # as filed, and as the enterprise record says now
            "credit_codes": {"type": "keyword"},
            "contact_name": {"type": "keyword"},
            "phone_tokens": {"type": "keyword"},
            "state": {"type": "keyword"},
            "bureau_id": {"type": "long"},
            "category_id": {"type": "long"},
            "region_id": {"type": "long"},
            "submitted_at": {"type": "date"},
            "updated_at": {"type": "date"},
        }
    }


def to_document(appeal: Any) -> dict[str, Any]:
    """The indexed form of an appeal (needs ``enterprise`` loaded or loadable)."""
    enterprise = appeal.enterprise
    return {
        "appeal_id": appeal.pk,
        "tracking_number": appeal.tracking_number,
        "title": appeal.title,
        "description": appeal.description,
        "enterprise_names": sorted({appeal.enterprise_name or enterprise.name, enterprise.name}),
        "credit_codes": sorted({appeal.enterprise_credit_code or enterprise.credit_code, enterprise.credit_code}),
        "contact_name": appeal.contact_name,
        "phone_tokens": [phone_token(appeal.contact_phone)] if appeal.contact_phone else [],
        "state": str(appeal.state),
        "bureau_id": appeal.bureau_id,
        "category_id": appeal.category_id,
        "region_id": appeal.region_id,
        "submitted_at": appeal.submitted_at.isoformat(),
        "updated_at": appeal.updated_at.isoformat(),
    }


@dataclass(frozen=True)
class Term:
    """One search-box term and what it may also be (a credit code, a phone number)."""

    text: str
    credit_code: str = ""
    phone: str = ""


class _Client:
    """The few calls used here, on either client library."""

    def __init__(self, engine: str, url: str, timeout: float) -> None:
        self.engine = engine
        if engine == "elasticsearch":
            from elasticsearch import Elasticsearch, NotFoundError, helpers

            self.raw: Any = Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)
        else:
            from opensearchpy import NotFoundError, OpenSearch, helpers  # type: ignore[assignment,no-redef]

            self.raw = OpenSearch(hosts=[url], timeout=timeout, max_retries=0, retry_on_timeout=False)
        self.not_found = NotFoundError
        self.helpers = helpers

    def bulk(self, actions: Iterable[dict[str, Any]]) -> None:
        self.helpers.bulk(self.raw, actions, chunk_size=500)


class EngineSearch:
    """Full-text search on an OpenSearch or Elasticsearch server (``cjk`` bigram analysis)."""

    def __init__(self, url: str, *, engine: str = "opensearch", index_prefix: str = "huying") -> None:
        self.name = engine
        self.url = url
        self.alias = f"{index_prefix}-appeals"
        self.client = _Client(engine, url, float(getattr(settings, "SEARCH_TIMEOUT", 3)))

    # --- Index management -----------------------------------------------------------------

    def _index_body(self, *, loading: bool = False) -> dict[str, Any]:
        shards = int(getattr(settings, "SEARCH_SHARDS", 1))
        replicas = int(getattr(settings, "SEARCH_REPLICAS", 0))
        index_settings: dict[str, Any] = {"number_of_shards": shards, "number_of_replicas": 0 if loading else replicas}
        if loading:
            index_settings["refresh_interval"] = "-1"
        return {"settings": index_settings, "mappings": _mapping()}

    def _new_index_name(self) -> str:
        return f"{self.alias}-{timezone.now():%Y%m%d%H%M%S%f}"

    def _indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.raw.indices.get_alias(name=self.alias))
        except self.client.not_found:
            return []

    def ensure_index(self) -> None:
        """Create the first index and its alias if there is none yet (idempotent)."""
        if self._indices_behind_alias():
            return
        name = self._new_index_name()
        self.client.raw.indices.create(index=name, body=self._index_body())
        self._point_alias_at(name, old=[])

    def _point_alias_at(self, name: str, *, old: list[str]) -> None:
        actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": self.alias}} for index in old]
        if self.client.raw.indices.exists(index=self.alias) and not old:
            # A concrete index under the alias's name (written by releases before the alias): replaced.
            actions.append({"remove_index": {"index": self.alias}})
        actions.append({"add": {"index": name, "alias": self.alias}})
        self.client.raw.indices.update_aliases(body={"actions": actions})

    def rebuild(self) -> int:
        """Load every appeal into a new index, swap the alias to it atomically, drop the old ones.

        Searches keep using the old index until the swap; writes made during the load went to the
        old index and are carried over by a catch-up pass right after the swap.
        """
        from appeals.models import Appeal

        started = timezone.now()
        name = self._new_index_name()
        self.client.raw.indices.create(index=name, body=self._index_body(loading=True))
        count = 0

        def actions() -> Iterator[dict[str, Any]]:
            nonlocal count
            for appeal in Appeal.objects.select_related("enterprise").order_by("pk").iterator(chunk_size=2000):
                count += 1
                yield {"_index": name, "_id": appeal.pk, "_source": to_document(appeal)}

        self.client.bulk(actions())
        replicas = int(getattr(settings, "SEARCH_REPLICAS", 0))
        self.client.raw.indices.put_settings(
            index=name, body={"index": {"refresh_interval": "1s", "number_of_replicas": replicas}}
        )
        self.client.raw.indices.refresh(index=name)
        old = self._indices_behind_alias()
        self._point_alias_at(name, old=old)
        for index in old:
            with contextlib.suppress(self.client.not_found):
                self.client.raw.indices.delete(index=index)
        self.catch_up(since=started - timedelta(seconds=5))
        return count

    def refresh(self) -> None:
        self.client.raw.indices.refresh(index=self.alias)

    def drop(self) -> None:
        """Delete every index behind the alias (tests and ``search_index --drop``)."""
        for index in self._indices_behind_alias():
            self.client.raw.indices.delete(index=index)

    # --- Writing --------------------------------------------------------------------------

    def index_appeal(self, appeal: Any) -> None:
        self.ensure_index()
        self.client.raw.index(index=self.alias, id=str(appeal.pk), body=to_document(appeal))

    def index_many(self, appeals: Iterable[Any]) -> int:
        self.ensure_index()
        count = 0

        def actions() -> Iterator[dict[str, Any]]:
            nonlocal count
            for appeal in appeals:
                count += 1
                yield {"_index": self.alias, "_id": appeal.pk, "_source": to_document(appeal)}

        self.client.bulk(actions())
        return count

    def remove_appeal(self, appeal_id: int) -> None:
        with contextlib.suppress(self.client.not_found):
            self.client.raw.delete(index=self.alias, id=str(appeal_id))

    def catch_up(self, *, since: datetime) -> int:
        """Re-index appeals changed since ``since`` whose indexed copy is missing or older.

        Compares in batches of 1,000 ids (one search per batch); returns how many it re-indexed.
        """
        from appeals.models import Appeal

        self.ensure_index()
        changed = Appeal.objects.filter(updated_at__gte=since).order_by("pk").values_list("pk", "updated_at")
        stale: list[int] = []
        batch: list[tuple[int, datetime]] = []
        for row in changed.iterator(chunk_size=PAGE):
            batch.append(row)
            if len(batch) == PAGE:
                stale += self._stale(batch)
                batch = []
        if batch:
            stale += self._stale(batch)
        reindexed = 0
        for start in range(0, len(stale), PAGE):
            ids = stale[start : start + PAGE]
            reindexed += self.index_many(Appeal.objects.select_related("enterprise").filter(pk__in=ids))
        return reindexed

    def _stale(self, rows: list[tuple[int, datetime]]) -> list[int]:
        body = {
            "query": {"ids": {"values": [str(pk) for pk, _updated in rows]}},
            "_source": ["updated_at"],
            "size": len(rows),
        }
        hits = self.client.raw.search(index=self.alias, body=body)["hits"]["hits"]
        indexed = {int(hit["_id"]): hit["_source"].get("updated_at") for hit in hits}
        return [pk for pk, updated in rows if indexed.get(pk) != updated.isoformat()]

    # --- Reading --------------------------------------------------------------------------

    def build_query(self, terms: list[Term]) -> dict[str, Any]:
        """Every term must match: the title (boosted) or description or enterprise name as a phrase
        (CJK bigrams in order), or exactly a tracking number, credit code, contact name or phone."""
        must = []
        for term in terms:
            should: list[dict[str, Any]] = [
                {"match_phrase": {"title": {"query": term.text, "boost": 2}}},
                {"match_phrase": {"description": term.text}},
                {"match_phrase": {"enterprise_names": term.text}},
                {"term": {"tracking_number": term.text}},
                {"term": {"contact_name": term.text}},
            ]
            if term.credit_code:
                should.append({"term": {"credit_codes": term.credit_code}})
            if term.phone:
                should.append({"term": {"phone_tokens": phone_token(term.phone)}})
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        return {"bool": {"must": must}}

    def search_ids(self, terms: list[Term], *, limit: int = 100) -> list[int]:
        """Best matches first (one request; ``limit`` is at most one page)."""
        body = {"query": self.build_query(terms), "size": min(limit, PAGE), "_source": False}
        hits = self.client.raw.search(index=self.alias, body=body)["hits"]["hits"]
        return [int(hit["_id"]) for hit in hits]

    def matching_ids(self, terms: list[Term], *, cap: int) -> tuple[list[int], int]:
        """Every matching id up to ``cap`` (paged with search_after on the id), and the true total."""
        ids: list[int] = []
        total = 0
        after: list[Any] | None = None
        while len(ids) < cap:
            body: dict[str, Any] = {
                "query": self.build_query(terms),
                "size": min(PAGE, cap - len(ids)),
                "sort": [{"appeal_id": "asc"}],
                "_source": False,
                "track_total_hits": True,
            }
            if after is not None:
                body["search_after"] = after
            result = self.client.raw.search(index=self.alias, body=body)["hits"]
            if after is None:
                total = int(result["total"]["value"])
            hits = result["hits"]
            ids += [int(hit["_id"]) for hit in hits]
            if len(hits) < body["size"]:
                break
            after = hits[-1]["sort"]
        return ids, max(total, len(ids))

    def filter_ids(self, queryset: QuerySet, terms: list[Term], *, cap: int) -> tuple[QuerySet, int]:
        ids, total = self.matching_ids(terms, cap=cap)
        return queryset.filter(pk__in=ids), total
