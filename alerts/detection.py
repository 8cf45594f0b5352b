"""Finding problems before more appeals arrive (未诉先办): pure reads that return ``Finding``s.

Four detectors, each over a recent window of appeals (so the cost follows the window, not the size
of the whole table):

* **clusters** — several *different* businesses in one city and category describing the same
  problem within ``ALERTS["CLUSTER_DAYS"]`` (text similarity over the router's character n-grams);
* **repeats** — one business (credit code) filing about the same matter again within
  ``ALERTS["REPEAT_DAYS"]``;
* **surges** — a city × category count in the last 7 days well above its previous weeks, by the
  same negative-binomial / Poisson test the dashboard uses for rising categories;
* **sensitive** — an appeal mentioning an active ``SensitiveTerm`` (safety, wage arrears, layoffs…).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count

from alerts.models import AlertKind, SensitiveTerm
from analytics.metrics import rising_test
from appeals.models import Appeal, AppealState
from routing.classifier import char_features
from routing.models import Region

# Appeals that never became a case do not count towards any warning.
EXCLUDED_STATES = (AppealState.WITHDRAWN, AppealState.REJECTED, AppealState.MERGED)


def alerts_setting(name: str, default: Any) -> Any:
    return getattr(settings, "ALERTS", {}).get(name, default)


@dataclass
class Finding:
    kind: str
    key: str
    title: str
    appeal_ids: list[int]
    region_id: int | None = None
    category_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    id: int
    enterprise_id: int
    city_id: int
    category_id: int
    text: str


def city_of() -> dict[int, int]:
    """Region id → its city's id (a district counts towards its city, as ``Region.city`` says)."""
    regions = {
        pk: (parent_id, level) for pk, parent_id, level in Region.objects.values_list("pk", "parent_id", "level")
    }
    return {
        pk: parent_id if level == Region.Level.DISTRICT and parent_id else pk
        for pk, (parent_id, level) in regions.items()
    }


def _recent(since: datetime, until: datetime) -> list[Row]:
    cities = city_of()
    rows = (
        Appeal.objects.filter(submitted_at__gte=since, submitted_at__lt=until)
        .exclude(state__in=EXCLUDED_STATES)
        .values_list("pk", "enterprise_id", "region_id", "category_id", "title", "description")
        .order_by("pk")
    )
    return [
        Row(pk, enterprise_id, cities.get(region_id, region_id), category_id, f"{title} {title} {description}")
        for pk, enterprise_id, region_id, category_id, title, description in rows.iterator(chunk_size=2000)
    ]


# --- Text similarity --------------------------------------------------------------------------------


# Greetings and self-introductions every appellant writes; left in, they make unrelated appeals alike.
_BOILERPLATE = re.compile(
    r"(?:您好|你好|咨询一下|请问|麻烦|谢谢|我们公司|我司|我厂|本店|本公司|我们这边|我是做[\u4e00-\u9fff]{1,6}的|"
    r"希望|请|帮忙|一下)"
)


def _features(text: str) -> list[str]:
    return char_features(_BOILERPLATE.sub(" ", unicodedata.normalize("NFKC", text).lower()))


def document_frequencies(rows: Iterable[Row]) -> tuple[Counter[str], int]:
    """How many of ``rows`` contain each n-gram: the IDF of a whole window, shared by its groups."""
    df: Counter[str] = Counter()
    total = 0
    for row in rows:
        df.update(set(_features(row.text)))
        total += 1
    return df, total


def similar_groups(
    rows: list[Row],
    *,
    threshold: float,
    idf: tuple[Counter[str], int] | None = None,
    max_features: int = 200,
    core_neighbours: int = 2,
) -> list[list[Row]]:
    """Connected groups of rows whose texts' TF-IDF cosine reaches ``threshold`` (single link).

    IDF comes from the whole window (``idf``, else ``rows`` themselves): n-grams most appeals share
    ("企业", "希望") weigh little, while those a handful share ("园区停电") weigh much. Pairs are found
    through an inverted index over each text's ``max_features`` heaviest n-grams, so the cost grows
    with the overlap between texts, not with n².
    """
    if len(rows) < 2:
        return []
    features = [_features(row.text) for row in rows]
    df, total = idf if idf is not None else document_frequencies(rows)
    vectors: list[dict[str, float]] = []
    for items in features:
        counts = Counter(items)
        weights = {f: (1 + math.log(c)) * (math.log((1 + total) / (1 + df[f])) + 1) for f, c in counts.items()}
        top = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:max_features])
        norm = math.sqrt(sum(w * w for w in top.values())) or 1.0
        vectors.append({f: w / norm for f, w in top.items()})
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for position, vector in enumerate(vectors):
        for feature, weight in vector.items():
            postings[feature].append((position, weight))
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    neighbours: list[set[int]] = [set() for _ in rows]
    for position, vector in enumerate(vectors):
        scores: dict[int, float] = defaultdict(float)
        for feature, weight in vector.items():
            for other, other_weight in postings[feature]:
                if other > position:
                    scores[other] += weight * other_weight
        for other, score in scores.items():
            if score >= threshold:
                neighbours[position].add(other)
                neighbours[other].add(position)
    # Density-based (as DBSCAN with min_samples): a text with at least ``core_neighbours`` similar
    # texts is a core; cores that are similar join, and other texts attach to one similar core. A
    # single bridging pair can no longer chain two problems into one group.
    core = [len(n) >= core_neighbours for n in neighbours]
    for position in range(len(rows)):
        if core[position]:
            for other in neighbours[position]:
                if core[other]:
                    parent[find(other)] = find(position)
    for position in range(len(rows)):
        if not core[position]:
            cores = sorted(other for other in neighbours[position] if core[other])
            if cores:
                parent[find(position)] = find(cores[0])
            elif neighbours[position] and core_neighbours <= 1:
                parent[find(position)] = find(min(neighbours[position]))
    groups: dict[int, list[Row]] = defaultdict(list)
    for position, row in enumerate(rows):
        groups[find(position)].append(row)
    return [group for group in groups.values() if len(group) > 1]


# --- Detectors --------------------------------------------------------------------------------------


def detect_clusters(now: datetime) -> list[Finding]:
    days = alerts_setting("CLUSTER_DAYS", 7)
    minimum = alerts_setting("CLUSTER_MIN_ENTERPRISES", 3)
    by_cell: dict[tuple[int, int], list[Row]] = defaultdict(list)
    window = _recent(now - timedelta(days=days), now)
    for row in window:
        by_cell[(row.city_id, row.category_id)].append(row)
    idf = document_frequencies(window)
    findings = []
    for (city_id, category_id), rows in by_cell.items():
        if len({row.enterprise_id for row in rows}) < minimum:
            continue
        for group in similar_groups(rows, threshold=alerts_setting("CLUSTER_SIMILARITY", 0.15), idf=idf):
            enterprises = {row.enterprise_id for row in group}
            if len(enterprises) < minimum:
                continue
            ids = sorted(row.id for row in group)
            findings.append(
                Finding(
                    AlertKind.CLUSTER,
                    f"{city_id}:{category_id}:{ids[0]}",
                    f"{len(enterprises)}家企业在{days}天内反映同一问题",
                    ids,
                    city_id,
                    category_id,
                    {"enterprises": len(enterprises), "appeals": len(ids), "days": days},
                )
            )
    return findings


def detect_repeats(now: datetime) -> list[Finding]:
    days = alerts_setting("REPEAT_DAYS", 30)
    minimum = alerts_setting("REPEAT_MIN_APPEALS", 2)
    by_enterprise: dict[int, list[Row]] = defaultdict(list)
    window = _recent(now - timedelta(days=days), now)
    for row in window:
        by_enterprise[row.enterprise_id].append(row)
    idf = document_frequencies(window)
    findings = []
    for enterprise_id, rows in by_enterprise.items():
        if len(rows) < minimum:
            continue
        # One business: any similar pair is a repeat (no density rule).
        threshold = alerts_setting("REPEAT_SIMILARITY", 0.2)
        for group in similar_groups(rows, threshold=threshold, idf=idf, core_neighbours=1):
            if len(group) < minimum:
                continue
            ids = sorted(row.id for row in group)
            findings.append(
                Finding(
                    AlertKind.REPEAT,
                    f"{enterprise_id}:{ids[0]}",
                    f"同一企业{days}天内就同一事项提交{len(ids)}件诉求",
                    ids,
                    group[0].city_id,
                    Counter(row.category_id for row in group).most_common(1)[0][0],
                    {"appeals": len(ids), "days": days, "enterprise_id": enterprise_id},
                )
            )
    return findings


def detect_surges(now: datetime) -> list[Finding]:
    weeks = alerts_setting("SURGE_BASELINE_WEEKS", 8)
    cities = city_of()
    counts: list[Counter[tuple[int, int]]] = []
    for back in range(weeks + 1):
        end = now - timedelta(days=7 * back)
        week: Counter[tuple[int, int]] = Counter()
        for region_id, category_id, n in (
            Appeal.objects.filter(submitted_at__gte=end - timedelta(days=7), submitted_at__lt=end)
            .exclude(state__in=EXCLUDED_STATES)
            .values_list("region_id", "category_id")
            .annotate(n=Count("pk"))
            .values_list("region_id", "category_id", "n")
        ):
            week[(cities.get(region_id, region_id), category_id)] += n
        counts.append(week)
    current = counts[0]
    tests = max(len(current), 1)
    findings = []
    for (city_id, category_id), count in current.items():
        baseline = [counts[i].get((city_id, category_id), 0) for i in range(1, weeks + 1)]
        result = rising_test(count, baseline, tests=tests)
        if not result.flagged:
            continue
        city_regions = [r for r, c in cities.items() if c == city_id]
        ids = list(
            Appeal.objects.filter(
                submitted_at__gte=now - timedelta(days=7),
                submitted_at__lt=now,
                region_id__in=city_regions,
                category_id=category_id,
            )
            .exclude(state__in=EXCLUDED_STATES)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        iso = (now - timedelta(days=1)).isocalendar()
        findings.append(
            Finding(
                AlertKind.SURGE,
                f"{city_id}:{category_id}:{iso.year}-W{iso.week:02d}",
                f"近7天{count}件，前{weeks}周平均{result.baseline_mean:.1f}件",
                ids,
                city_id,
                category_id,
                {
                    "count": count,
                    "baseline_mean": round(result.baseline_mean, 2),
                    "p_value": result.p_value,
                    "weeks": weeks,
                },
            )
        )
    return findings


def detect_sensitive(now: datetime, *, terms: Iterable[tuple[str, str]] | None = None) -> list[Finding]:
    hours = alerts_setting("SENSITIVE_LOOKBACK_HOURS", 48)
    active = list(
        terms if terms is not None else SensitiveTerm.objects.filter(is_active=True).values_list("term", "topic")
    )
    if not active:
        return []
    cities = city_of()
    findings = []
    rows = (
        Appeal.objects.filter(submitted_at__gte=now - timedelta(hours=hours), submitted_at__lt=now)
        .exclude(state__in=EXCLUDED_STATES)
        .values_list("pk", "region_id", "category_id", "title", "description")
    )
    for pk, region_id, category_id, title, description in rows.iterator(chunk_size=2000):
        text = unicodedata.normalize("NFKC", f"{title} {description}")
        hits = sorted({term for term, _topic in active if term in text})
        if not hits:
            continue
        topics = sorted({topic for term, topic in active if term in hits})
        findings.append(
            Finding(
                AlertKind.SENSITIVE,
                str(pk),
                "诉求提及敏感词：" + "、".join(hits),
                [pk],
                cities.get(region_id, region_id),
                category_id,
                {"terms": hits, "topics": topics},
            )
        )
    return findings


DETECTORS = {
    AlertKind.SENSITIVE: detect_sensitive,
    AlertKind.CLUSTER: detect_clusters,
    AlertKind.REPEAT: detect_repeats,
    AlertKind.SURGE: detect_surges,
}
