"""Routing benchmark: classifier accuracy and calibrated triage beside a reference model; decide() speed.

    .venv/bin/python bench/routing_accuracy.py [--dev PATH] [--decisions N]

1. Every model is trained on the same data — the seed files in ``routing/data/training/`` (never
   the development set) — and its auto-routing threshold is calibrated the same way, on the
   held-out third of the hand-written examples (``routing.classifier.train_linear``). Then, on the
   development set (``../shared/domain/appeals_sample.jsonl``, title + description only), as if
   every appellant had chosen "other": top-1 and top-3 accuracy, the share routed automatically
   (a routable prediction whose bureau type has at least the threshold's probability), and the
   share of those that reach the wrong bureau. Models: the production logistic regression over
   robust features, naive Bayes over char and robust features, and the reference TF-IDF character
   1–3-gram logistic regression (scikit-learn, raw text, same C).
2. The same on the development set rewritten in Traditional characters (OpenCC) and with
   homophone typos (the generator's typo table), to show what normalisation and pinyin buy.
3. Decisions per second and latency percentiles of a full ``routing.decisions.decide()`` (classifier
   + rules, bureaus and the region check) on a throw-away test database with the whole province
   (SQLite in memory by default; PostgreSQL when DATABASE_URL says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from routing import classifier  # noqa: E402
from routing.linear_model import LinearModel, bureau_confidence, choose_threshold  # noqa: E402
from routing.taxonomy import read_taxonomy  # noqa: E402

DEFAULT_DEV = ROOT.parent / "shared" / "domain" / "appeals_sample.jsonl"
BUREAU_OF = {item["code"]: item["bureau"] for item in read_taxonomy()["categories"]}
Scorer = Callable[[str, str], dict[str, float]]


def load_dev(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _reference(examples: list[classifier.Example]) -> Scorer:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    matrix = vectorizer.fit_transform([f"{e.title}\n{e.description}" for e in examples])
    regression = LogisticRegression(C=classifier.DEFAULT_C, max_iter=3000).fit(matrix, [e.category for e in examples])

    def score(title: str, description: str) -> dict[str, float]:
        row = regression.predict_proba(vectorizer.transform([f"{title}\n{description}"]))[0]
        return dict(zip(regression.classes_, row, strict=True))

    return score


def _ours(examples: list[classifier.Example]) -> Scorer:
    model = LinearModel(features="robust").fit(
        [classifier.document_features(e.title, e.description, "robust") for e in examples],
        [e.category for e in examples],
    )
    return lambda title, description: model.predict(title, description).scores


def _naive_bayes(features: str) -> Callable[[list[classifier.Example]], Scorer]:
    def build(examples: list[classifier.Example]) -> Scorer:
        model = classifier.NaiveBayes(features=features, alpha=classifier.DEFAULT_ALPHA).fit(examples)
        return lambda title, description: model.predict(title, description).scores

    return build


MODELS: dict[str, Callable[[list[classifier.Example]], Scorer]] = {
    "ours: LR robust": _ours,
    "reference: TF-IDF char 1-3 LR": _reference,
    "naive Bayes char (before)": _naive_bayes("char"),
    "naive Bayes robust": _naive_bayes("robust"),
}


def _outcomes(score: Scorer, rows: list[tuple[str, str, str]]) -> tuple[list[dict[str, float]], list]:
    """(scores per row, [(bureau confidence, wrong bureau, wrong category)] for routable predictions)."""
    all_scores, outcomes = [], []
    for title, description, truth in rows:
        scores = score(title, description)
        best = max(scores, key=scores.__getitem__)
        all_scores.append(scores)
        if BUREAU_OF.get(best, "dispatch") != "dispatch":
            confidence = bureau_confidence(scores, best, BUREAU_OF)
            outcomes.append((confidence, BUREAU_OF[best] != BUREAU_OF[truth], best != truth))
    return all_scores, outcomes


def evaluate(score: Scorer, threshold: float, rows: list[tuple[str, str, str]]) -> dict[str, float]:
    all_scores, outcomes = _outcomes(score, rows)
    ranked = [sorted(s, key=s.__getitem__, reverse=True) for s in all_scores]
    auto = [o for o in outcomes if o[0] >= threshold]
    return {
        "top1": sum(r[0] == row[2] for r, row in zip(ranked, rows, strict=True)) / len(rows),
        "top3": sum(row[2] in r[:3] for r, row in zip(ranked, rows, strict=True)) / len(rows),
        "auto": len(auto) / len(rows),
        "wrong_bureau": sum(o[1] for o in auto) / len(auto) if auto else 0.0,
        "wrong_category": sum(o[2] for o in auto) / len(auto) if auto else 0.0,
        "auto_n": len(auto),
        "wrong_n": sum(o[1] for o in auto),
    }


def _variants(rows: list[dict]) -> dict[str, list[tuple[str, str, str]]]:
    import opencc

    sys.path.insert(0, str(ROOT / "routing" / "data"))
    from training_banks import TYPOS

    to_traditional = opencc.OpenCC("s2t")

    def typos(text: str) -> str:
        for right, wrong in TYPOS.items():
            text = text.replace(right, wrong)
        return text

    plain = [(r["title"], r["description"], r["category"]) for r in rows]
    return {
        "development set": plain,
        "  in Traditional": [(to_traditional.convert(t), to_traditional.convert(d), c) for t, d, c in plain],
        "  with homophone typos": [(typos(t), typos(d), c) for t, d, c in plain],
    }


def accuracy_report(rows: list[dict]) -> None:
    examples = classifier.seed_examples()
    train_part, held_out = classifier._calibration_split(examples)
    generated = sum(e.generated for e in examples)
    print(
        f"Training examples: {len(examples)} ({generated} generated, {len(examples) - generated} hand-written) "
        f"in {len({e.category for e in examples})} categories; calibration: {len(held_out)} held-out hand-written; "
        f"development set: {len(rows)} (never trained on)"
    )
    print(
        f"Calibration target: at most {classifier.MAX_WRONG_SHARE:.0%} of auto-routed held-out appeals "
        "at a wrong bureau"
    )
    variants = _variants(rows)
    print()
    header = f"{'model':<31} {'set':<23} {'thresh':>6} {'top-1':>6} {'top-3':>6} {'auto':>6} {'wrong bureau':>13}"
    print(header)
    print("-" * len(header))
    for name, build in MODELS.items():
        started = time.perf_counter()
        probe = build(train_part)
        _scores, outcomes = _outcomes(probe, [(e.title, e.description, e.category) for e in held_out])
        threshold = choose_threshold([(c, wrong) for c, wrong, _cat in outcomes], max_wrong=classifier.MAX_WRONG_SHARE)
        score = build(examples)
        train_seconds = time.perf_counter() - started
        for label, data in variants.items():
            r = evaluate(score, threshold["threshold"], data)
            print(
                f"{name if label == 'development set' else '':<31} {label:<23} {threshold['threshold']:>6.2f} "
                f"{r['top1']:>6.1%} {r['top3']:>6.1%} {r['auto']:>6.1%} "
                f"{r['wrong_bureau']:>6.1%} ({r['wrong_n']}/{r['auto_n']})"
            )
        print(f"{'':<31} (probe + final training {train_seconds:.1f} s)")
    print()
    print(
        "auto = share of ALL development appeals routed without a dispatcher (policy and 'other' always go to"
        " triage: 20 of 150, so 86.7 % is the ceiling); wrong bureau = share of the auto-routed at a wrong bureau."
    )
    score = _ours(examples)
    confusion: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        scores = score(row["title"], row["description"])
        confusion[row["category"]][max(scores, key=scores.__getitem__)] += 1
    print()
    print("Per category (ours): recall and where the misses went")
    for category in sorted(confusion):
        counts = confusion[category]
        misses = ", ".join(f"{c}×{n}" for c, n in counts.most_common() if c != category)
        print(f"  {category:<17} {counts[category]:>2}/{sum(counts.values()):<2} {misses}")


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

        load_taxonomy(with_regions=True)  # the migration already loaded the province: a no-op check
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
    print(
        f"Machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    accuracy_report(rows)
    speed_report(rows, args.decisions)


if __name__ == "__main__":
    main()
