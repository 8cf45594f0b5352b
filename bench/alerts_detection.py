"""Early warning: cluster precision on labelled sets, and the detection job's time at 1,000,000 appeals.

    .venv/bin/python bench/alerts_detection.py --quality             # no database needed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying_alerts_bench \
        .venv/bin/python bench/alerts_detection.py --appeals 1000000   # PostgreSQL

``--quality`` scores the cluster grouping (``alerts.detection.similar_groups``) on 20 labelled sets
from ``alerts/evaluation.py`` (five planted problems described by five businesses each, 25 one-off
appeals) for a range of thresholds: precision (predicted groups that are one real problem) and
recall (problems found).

``--appeals N`` copies one real appeal (made by the submission service) N times with SQL
``generate_series`` — spread over two years, 21 cities' worth of regions, 100,000 enterprises, texts
from the labelled sets — then times ``alerts.services.alerts_detect`` (all four detectors) twice:
the first run raises the alerts, the second finds the same problems and changes nothing. The
job reads only its windows (7 days for clusters and surges, 30 for repeats, 48 hours for sensitive
words), so its time follows the appeals in those windows, not the table's size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from alerts.detection import Row, similar_groups  # noqa: E402
from alerts.evaluation import cluster_metrics, labelled_set  # noqa: E402


def quality() -> None:
    print("threshold  precision(mean/min)  recall(mean/min)   over 20 labelled sets")
    for threshold in (0.10, 0.12, 0.15, 0.18, 0.20, 0.25):
        precision, recall = [], []
        for seed in range(1, 21):
            items = labelled_set(seed=seed)
            rows = [Row(i, i, 1, 1, f"{it.title} {it.title} {it.text}") for i, it in enumerate(items)]
            groups = similar_groups(rows, threshold=threshold)
            score = cluster_metrics([[items[r.id].label for r in g] for g in groups], labels=[it.label for it in items])
            precision.append(score.precision)
            recall.append(score.recall)
        print(
            f"{threshold:9.2f}  {statistics.mean(precision):6.3f} / {min(precision):5.2f}"
            f"      {statistics.mean(recall):6.3f} / {min(recall):5.2f}"
        )


def populate(n: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from appeals.models import Appeal, Enterprise
    from routing.models import Category, Region
    from routing.taxonomy import load_taxonomy
    from tests import factories

    call_command("migrate", verbosity=0)
    load_taxonomy(with_regions=True)
    if Appeal.objects.count() >= n:
        print(f"reusing {Appeal.objects.count()} appeals")
        return
    region = Region.objects.first()
    template = factories.submit(region=region).appeal
    regions = list(Region.objects.values_list("pk", flat=True))
    categories = list(Category.objects.values_list("pk", flat=True))
    texts = [it.text.replace("'", "") for seed in range(1, 6) for it in labelled_set(seed=seed)]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO appeals_enterprise (credit_code, name, region_id, industry, size, contact_name, phone,"
            " email, created_at, updated_at) SELECT 'B' || lpad(g::text, 17, '0'), '企业' || g, %s, 'C', 'small',"
            " '联系人', '+8613800138000', '', now(), now() FROM generate_series(1, 100000) g",
            [region.pk],
        )
        first_enterprise = Enterprise.objects.order_by("pk").values_list("pk", flat=True)[1]
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "appeals_appeal")]
        overrides = {
            "id": None,
            "tracking_number": "'B' || lpad(g::text, 14, '0')",
            "access_code_hash": "md5(g::text)",
            "idempotency_key": "NULL",
            "enterprise_id": f"{first_enterprise} + mod(g, 100000)",
            "region_id": f"(ARRAY{regions})[1 + mod(g, {len(regions)})]",
            "category_id": f"(ARRAY{categories})[1 + mod(g / 7, {len(categories)})]",
            "title": f"left((ARRAY{texts!r})[1 + mod(g, {len(texts)})], 20)".replace('"', "'"),
            "description": f"(ARRAY{texts!r})[1 + mod(g, {len(texts)})]".replace('"', "'"),
            "submitted_at": "now() - mod(g, 730) * interval '1 day' - mod(g, 24) * interval '1 hour'",
        }
        names = [c for c in columns if overrides.get(c, "") is not None]
        values = [overrides.get(c) or f"t.{c}" for c in names]
        cursor.execute(
            f"INSERT INTO appeals_appeal ({', '.join(names)}) SELECT {', '.join(values)} "
            f"FROM appeals_appeal t, generate_series(1, %s) g WHERE t.id = %s",
            [n, template.pk],
        )
        cursor.execute("ANALYZE appeals_appeal")
    print(f"inserted {n} appeals in {time.perf_counter() - started:.0f} s")


def job_time() -> None:
    from django.utils import timezone

    from alerts.services import alerts_detect
    from appeals.models import Appeal

    total = Appeal.objects.count()
    now = timezone.now()
    windows = {d: Appeal.objects.filter(submitted_at__gte=now - timezone.timedelta(days=d)).count() for d in (2, 7, 30)}
    print(f"appeals: {total}; in the last 2 / 7 / 30 days: {windows[2]} / {windows[7]} / {windows[30]}")
    for label in ("first run", "second run"):
        started, cpu = time.perf_counter(), time.process_time()
        run = alerts_detect(now=now)
        print(
            f"{label}: {time.perf_counter() - started:6.1f} s wall, {time.process_time() - cpu:6.1f} s CPU in Python;"
            f" raised {run.raised}, grown {run.grown}, unchanged {run.unchanged}"
        )
    one, five, fifteen = os.getloadavg()
    print(f"load average: {one:.2f} {five:.2f} {fifteen:.2f}  cores: {os.cpu_count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", action="store_true", help="only the labelled-set scores")
    parser.add_argument("--appeals", type=int, default=1_000_000)
    args = parser.parse_args()
    quality()
    if args.quality:
        return
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("The job-time part needs DATABASE_URL pointing at a PostgreSQL database.")
    populate(args.appeals)
    job_time()


if __name__ == "__main__":
    main()
