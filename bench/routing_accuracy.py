"""Routing benchmark: classifier accuracy (char n-grams vs jieba words) and decide() speed.

    .venv/bin/python bench/routing_accuracy.py [--dev PATH] [--decisions N]

1. Top-1 accuracy of the classifier on the development set (``../shared/domain/appeals_sample.jsonl``:
   title + description only, never trained on), for both feature kinds side by side, with
   per-category recall and the confusions; plus 5-fold cross-validation on the seed examples.
2. What the routing policy does with those confidences on the development set: how often the
   appellant's (true) category would be flagged as disputed, and what share of "other" appeals
   would be auto-routed correctly / wrongly / sent to triage.
3. Decisions per second and latency percentiles of a full ``routing.decisions.decide()`` (classifier
   + rules and bureaus from the database) on a throw-away test database with the default taxonomy
   and ten cities (SQLite in memory by default; PostgreSQL when DATABASE_URL says so).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from routing import classifier  # noqa: E402

DEFAULT_DEV = ROOT.parent / "shared" / "domain" / "appeals_sample.jsonl"


def load_dev(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def accuracy_report(rows: list[dict]) -> dict[str, classifier.NaiveBayes]:
    seed = classifier.seed_examples()
    models = {}
    print(f"Seed examples: {len(seed)} in {len({e.category for e in seed})} categories; development set: {len(rows)}")
    print()
    print(f"{'features':<8} {'top-1':>7} {'top-3':>7} {'seed 5-fold CV':>15} {'train s':>8} {'predict µs':>11}")
    details = {}
    for kind in ("char", "jieba"):
        started = time.perf_counter()
        model = classifier.NaiveBayes(features=kind, alpha=classifier.DEFAULT_ALPHA).fit(seed)
        train_seconds = time.perf_counter() - started
        model.predict("预热", "预热")  # jieba loads its dictionary on first use
        started = time.perf_counter()
        predictions = [model.predict(r["title"], r["description"]) for r in rows]
        per_call = (time.perf_counter() - started) / len(rows) * 1e6
        top1 = sum(p.category == r["category"] for p, r in zip(predictions, rows, strict=True)) / len(rows)
        top3 = sum(
            r["category"] in sorted(p.scores, key=p.scores.get, reverse=True)[:3]
            for p, r in zip(predictions, rows, strict=True)
        ) / len(rows)
        cv = classifier.cross_validate(seed, features=kind, alpha=classifier.DEFAULT_ALPHA)
        print(f"{kind:<8} {top1:>7.1%} {top3:>7.1%} {cv:>15.1%} {train_seconds:>8.2f} {per_call:>11.0f}")
        models[kind] = model
        details[kind] = predictions
    chosen = settings.ROUTING.get("CLASSIFIER_FEATURES", "char")
    print()
    print(f"Per category ({chosen}, the configured features): recall and where the misses went")
    confusion: dict[str, Counter] = defaultdict(Counter)
    for prediction, row in zip(details[chosen], rows, strict=True):
        confusion[row["category"]][prediction.category] += 1
    for category in sorted(confusion):
        counts = confusion[category]
        total = sum(counts.values())
        misses = ", ".join(f"{c}×{n}" for c, n in counts.most_common() if c != category)
        print(f"  {category:<17} {counts[category]:>2}/{total:<2} {misses}")
    policy_report(details[chosen], rows)
    return models


def policy_report(predictions, rows) -> None:
    routing = settings.ROUTING
    auto = routing["AUTO_ROUTE_CONFIDENCE"]
    ceiling = routing["CONTRADICTION_MAX_PROBABILITY"]
    contradiction_auto = routing["CONTRADICTION_AUTO_ROUTE_CONFIDENCE"]
    disputed = rerouted = 0
    for prediction, row in zip(predictions, rows, strict=True):
        if row["category"] == "other" or prediction.category in ("other", "policy"):
            continue
        short = prediction.feature_count < routing.get("CONTRADICTION_MIN_FEATURES", 60)
        if short:
            continue
        if prediction.category != row["category"] and prediction.probability(row["category"]) <= ceiling:
            disputed += 1
            rerouted += prediction.confidence >= contradiction_auto
    print()
    print(
        f"Policy on the development set (appellant chose the true category): {disputed} of {len(rows)} "
        f"would be flagged disputed (P(chosen) ≤ {ceiling}), {rerouted} of them re-routed "
        f"(confidence ≥ {contradiction_auto})."
    )
    # As if every appellant had chosen "other": what would auto-routing do?
    right = wrong = triage = 0
    for prediction, row in zip(predictions, rows, strict=True):
        if prediction.confidence >= auto and prediction.category not in ("other", "policy"):
            if prediction.category == row["category"]:
                right += 1
            else:
                wrong += 1
        else:
            triage += 1
    print(
        f"As if all {len(rows)} had chosen “other” (auto-route at confidence ≥ {auto}): "
        f"{right} routed right, {wrong} routed wrong, {triage} to triage."
    )


def speed_report(rows: list[dict], decisions: int) -> None:
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    started = time.perf_counter()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print()
    print(f"Test database ({connection.vendor}) migrated in {time.perf_counter() - started:.1f} s")
    try:
        from routing.decisions import decide
        from routing.models import Category, Region, RoutingRule
        from routing.taxonomy import load_taxonomy

        load_taxonomy(with_regions=True)
        regions = {r.name: r for r in Region.objects.all()}
        categories = {c.code: c for c in Category.objects.select_related("default_bureau_type")}
        print(f"Rules: {RoutingRule.objects.filter(is_active=True).count()}, regions: {len(regions)}")
        items = []
        for row in rows:
            region = regions.get(row["region"]) or next(iter(regions.values()))
            items.append((categories[row["category"]], region, row["title"], row["description"]))
        for category, region, title, description in items[:20]:  # warm the classifier and caches
            decide(category=category, region=region, title=title, description=description, urgency="normal")
        latencies = []
        cpu = []
        routed = 0
        started = time.perf_counter()
        for i in range(decisions):
            category, region, title, description = items[i % len(items)]
            t0, c0 = time.perf_counter(), time.thread_time()
            decision = decide(category=category, region=region, title=title, description=description, urgency="normal")
            latencies.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            routed += decision.bureau is not None
        elapsed = time.perf_counter() - started
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        print(
            f"decide() × {decisions}: {decisions / elapsed:,.0f} decisions/s; latency p50 {q[49] * 1000:.2f} ms, "
            f"p95 {q[94] * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms, max {latencies[-1] * 1000:.2f} ms; "
            f"{routed / decisions:.0%} routed to a bureau (rest: triage)"
        )
        cq = statistics.quantiles(cpu, n=100)
        print(
            f"CPU time per decision (excludes waiting for a core on a busy machine): p50 {cq[49] * 1000:.2f} ms, "
            f"p99 {cq[98] * 1000:.2f} ms; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="development set (JSON lines)")
    parser.add_argument("--decisions", type=int, default=5000, help="decide() calls to time")
    args = parser.parse_args()
    rows = load_dev(args.dev)
    accuracy_report(rows)
    speed_report(rows, args.decisions)


if __name__ == "__main__":
    main()
