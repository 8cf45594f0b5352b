"""The dashboard's sections: computed from the rollups, rendered, and cached until the rollups change.

The sections (every chart and table below the filter form) depend only on the filters, the scope
(everything, or one bureau lead's bureau), the language and the rollup tables. They are cached as
rendered HTML under a *data version* that ``analytics.rollups`` replaces whenever a run changes
the tables (``data_changed``), so a cached page is never older than the rollups it was drawn
from: a new appeal shows as soon as the next rollup run (every minute, ``ANALYTICS_ROLLUP_SECONDS``)
has counted it. The page states when the rollups last ran (``fresh_as_of``). Without a data
version (no rollup has run since the cache was emptied, or the cache is unreachable) nothing is
cached and every page is computed.

After each run that changed the tables the rollup task renders the default view (the last four
weeks, everything, each language) into the cache (``warm``), so the first visitor after a change
does not pay for it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import astuple
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation

from analytics import selectors, tables
from analytics.collector import collector_paused
from analytics.models import RollupCursor
from analytics.selectors import Filters

if TYPE_CHECKING:
    from analytics.views import Scope

VERSION_KEY = "analytics:dashboard:version"
# A version is replaced at every rollup run that changes the tables; this only bounds the memory
# held by sections nobody asks for again.
SECTIONS_TIMEOUT = 10 * 60
TEMPLATE = "analytics/_dashboard_sections.html"


def data_changed() -> None:
    """The rollup tables changed: cached sections drawn from the old tables are no longer served."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def current_version() -> str | None:
    return cache.get(VERSION_KEY)


def fresh_as_of() -> datetime | None:
    """When the rollups last read the audit trail (None: never)."""
    from analytics.rollups import CURSOR

    return RollupCursor.objects.filter(name=CURSOR).values_list("updated_at", flat=True).first()


def _key(version: str, filters: Filters, bureau_id: int | None, query: str) -> str:
    digest = hashlib.sha256(repr((astuple(filters), query)).encode()).hexdigest()[:32]
    return f"analytics:dashboard:{version}:{translation.get_language()}:{bureau_id}:{digest}"


def sections_html(filters: Filters, scope: Scope, query: str) -> str:
    """The rendered sections for these filters, from the cache when the rollups have not changed since."""
    version = current_version()
    key = _key(version, filters, scope.bureau_id, query) if version else None
    if key is not None:
        html = cache.get(key)
        if html is not None:
            return html
    with selectors.shared_labels(), collector_paused():
        html = render_to_string(TEMPLATE, {**sections(filters, scope), "scope": scope, "query": query})
    if key is not None:
        cache.set(key, html, timeout=SECTIONS_TIMEOUT)
    return html


def warm() -> None:
    """Render the default view (full scope, no filters) in every language into the cache."""
    from analytics.forms import FilterForm
    from analytics.views import Scope

    form = FilterForm({})
    if not form.is_valid():  # the empty form always is; nothing to warm otherwise
        return
    filters = form.to_filters(bureau_id=None)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            sections_html(filters, Scope(None), "")


def sections(filters: Filters, scope: Scope) -> dict:
    kpis = selectors.kpis(filters)
    ranking = selectors.category_ranking(filters)
    # Each selector runs once per page: the ranking (with its trend) and the heat map feed both
    # a chart and its table, and the hot topics reuse the ranking's top categories.
    topics = selectors.hot_topics(filters, ranking=ranking) if scope.full else []
    league_period = tables.month_filters(filters.end)
    heat = selectors.heatmap(filters)
    heat_categories, heat_regions, heat_cells = heat
    trend = tables.trend_table(filters, ranking)
    return {
        "filters": filters,
        "previous": filters.shifted(-1),
        "kpis": kpis,
        "kpi_table": tables.kpi_table(filters, kpis),
        "ranking_table": tables.ranking_table(filters, ranking),
        "types_table": tables.types_table(filters),
        "trend_table": trend,
        "heatmap_table": tables.heatmap_table(filters, heat),
        "rising_table": tables.rising_table(filters),
        "scorecard_table": tables.scorecard_table(filters),
        # Problem tickets are read live, not from the rollups: cached with the sections, they are at
        # most SECTIONS_TIMEOUT old (the board itself is always live).
        "problems_table": tables.problems_table(filters),
        "league_period": league_period,
        "league_bureaus": tables.league_table(league_period, by="bureau"),
        "league_regions": tables.league_table(league_period, by="region"),
        "hot_topics": topics,
        "hot_topics_table": tables.hot_topics_table(filters, topics) if scope.full else None,
        "chart_data": {
            "ranking": {"categories": [r.category for r in ranking], "counts": [r.count for r in ranking]},
            "trend": {
                "periods": trend.headers[1:],
                "series": [{"name": r.category, "data": r.trend} for r in ranking[:6]],
            },
            "heatmap": {
                "categories": [name for _id, name in heat_categories],
                "regions": [name for _id, name in heat_regions],
                "cells": [
                    [ri, ci, heat_cells.get((cid, rid), 0)]
                    for ci, (cid, _c) in enumerate(heat_categories)
                    for ri, (rid, _r) in enumerate(heat_regions)
                ],
            },
        },
    }
