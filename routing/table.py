"""The routing table: rules, bureaus, categories, regions and deadline policies, cached per process.

Rules, bureaus and policies change a few times a year; decisions happen on every submission. The
table is loaded once per process and reloaded when any of its models is saved or deleted: the
signal handlers (connected in ``RoutingConfig.ready()``) clear this process's copy and bump a
version in Django's cache, which other processes compare at most once a second; with a
per-process cache they reload after ``_TABLE_MAX_AGE`` seconds. A steady-state decision therefore
runs no query at all. Bulk ``QuerySet.update()`` sends no signal: call ``clear_routing_table()``
after one.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from routing.models import Bureau, BureauType, Category, DeadlinePolicy, Region, RoutingRule

_TABLE_VERSION_KEY = "routing:table:version"
_TABLE_MAX_AGE = 60.0
_table_lock = threading.Lock()
_table: dict[str, Any] = {"data": None, "loaded_at": -1e9, "checked_at": -1e9, "version": None}
_generations = itertools.count(1)

# The models whose rows make up the table: saving or deleting any of them reloads it.
TABLE_MODELS = (RoutingRule, Bureau, BureauType, Category, Region, DeadlinePolicy)


def rule_specificity(rule: RoutingRule) -> int:
    """How narrow a rule is: district before city before any region; keywords, urgency and appeal
    type add one each."""
    score = 0
    if rule.region is not None:
        score += 4 if rule.region.level == Region.Level.DISTRICT else 2
    if rule.keywords.strip():
        score += 1
    if rule.urgency:
        score += 1
    if rule.appeal_type:
        score += 1
    return score


@dataclass
class RoutingTable:
    rules: list[RoutingRule]
    bureaus: dict[tuple[int, int], Bureau]  # (bureau type id, region id) → active bureau
    categories: dict[str, Category]
    parents: dict[int, int | None]  # region id → parent (city) id for districts
    regions: dict[str, Region] = field(default_factory=dict)  # active regions by code
    policies: list[DeadlinePolicy] = field(default_factory=list)  # active deadline policies
    # Goes up each time this process loads the table: a key for anything derived from it, such as
    # the public form's rendered category and region lists.
    generation: int = 0
    # Every region, active or not, by code: an inactive region is still known (and said so).
    all_regions: dict[str, Region] = field(default_factory=dict)

    @cached_property
    def regions_by_id(self) -> dict[int, Region]:
        return {region.pk: region for region in self.regions.values()}

    @cached_property
    def categories_by_id(self) -> dict[int, Category]:
        return {category.pk: category for category in self.categories.values()}

    def city_id(self, region: Region) -> int:
        """The id of a region's city (a city is its own city)."""
        parent = self.parents.get(region.pk)
        return parent if parent is not None else region.pk

    def bureau_for(self, bureau_type_id: int, region: Region) -> Bureau | None:
        """The active bureau of a type for a region: the district's own bureau, else the city's."""
        return self.bureaus.get((bureau_type_id, region.pk)) or self.bureaus.get((bureau_type_id, self.city_id(region)))


def _load_table() -> RoutingTable:
    rules = list(RoutingRule.objects.filter(is_active=True).select_related("target_type", "region"))
    rules.sort(key=lambda r: (r.priority, -rule_specificity(r), r.pk))
    bureaus = {
        (b.bureau_type_id, b.region_id): b
        for b in Bureau.objects.filter(is_active=True).select_related("bureau_type", "region")
    }
    categories = {c.code: c for c in Category.objects.filter(is_active=True).select_related("default_bureau_type")}
    everything = list(Region.objects.all())
    parents = {r.pk: (r.parent_id if r.level == Region.Level.DISTRICT else None) for r in everything}
    regions = {r.code: r for r in everything if r.is_active}
    policies = list(DeadlinePolicy.objects.filter(is_active=True))
    return RoutingTable(
        rules,
        bureaus,
        categories,
        parents,
        regions,
        policies,
        generation=next(_generations),
        all_regions={r.code: r for r in everything},
    )


def routing_table() -> RoutingTable:
    """This process's copy of the routing table, reloaded when another process changed it."""
    now = time.monotonic()
    with _table_lock:
        data = _table["data"]
        stale = data is None or now - _table["loaded_at"] > _TABLE_MAX_AGE
        if not stale and now - _table["checked_at"] > 1.0:
            _table["checked_at"] = now
            stale = cache.get(_TABLE_VERSION_KEY) != _table["version"]
        if not stale:
            return data
    version = cache.get(_TABLE_VERSION_KEY)
    data = _load_table()
    with _table_lock:
        _table.update(data=data, loaded_at=now, checked_at=now, version=version)
    return data


def clear_routing_table(**kwargs: Any) -> None:
    """Forget the cached routing table here and (through the shared cache) in other processes.

    Called inside the transaction that changes a model, so the version is bumped again once it
    commits: another process that reloaded in between read the old rows and must reload again.
    """
    _bump_table_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump_table_version)


def _bump_table_version() -> None:
    cache.set(_TABLE_VERSION_KEY, uuid.uuid4().hex, None)
    with _table_lock:
        _table["data"] = None


def connect_signals() -> None:
    """Reload the table whenever one of its models is saved or deleted (called from ``ready()``)."""
    for model in TABLE_MODELS:
        post_save.connect(clear_routing_table, sender=model, dispatch_uid=f"routing.table.save.{model.__name__}")
        post_delete.connect(clear_routing_table, sender=model, dispatch_uid=f"routing.table.delete.{model.__name__}")
