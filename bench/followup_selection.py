"""Follow-up selection (回访) and the problem-ticket sweep (问题工单) at 100,000 and 1,000,000 appeals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying_followup_bench \
        .venv/bin/python bench/followup_selection.py --appeals 1000000

Appeals are generated as in ``bench/alerts_detection.py`` (its ``populate``: one real appeal copied N
times with ``generate_series``, spread over two years). This script then shapes them with SQL:

* 70 % closed five days after filing (the rest handling); 1 in 5 closed ones by the default rating, 1 in
  10 re-opened once after a bad rating, 1 in 500 re-opened three times (a problem ticket);
* one closing rating per closed appeal (plus the bad round-0 rating of re-opened ones);
* 1 in 300 appeals dispatched to three bureaus (a ``dispatched`` and two ``rerouted`` audit events);
* 1 in 200 open appeals supervised (督办) and still open.

It then times:

1. ``followup_select()`` — the periodic job (appeals closed in the last ``LOOKBACK_DAYS``), twice: the
   first run creates the follow-ups, the second finds nothing new;
2. ``followup_select(since=…two years ago)`` — a full backfill over every closed appeal;
3. ``problems_sweep()`` twice — the first run flags (one transaction and audit event per ticket), the
   second changes nothing (the steady state every 15 minutes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from bench.alerts_detection import populate  # noqa: E402


def shape() -> None:
    """Close, rate, re-route and supervise the generated appeals (idempotent: skipped when done)."""
    from django.db import connection, transaction

    from appeals.models import Appeal, Rating
    from routing.models import Bureau

    if Rating.objects.exists() and Appeal.objects.filter(state="closed").count() > 1000:
        print("reusing shaped appeals")
        return
    bureaus = list(Bureau.objects.filter(is_active=True).values_list("pk", flat=True)[:50])
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE appeals_appeal SET
                bureau_id = (ARRAY{bureaus})[1 + mod(id, {len(bureaus)})],
                state = CASE WHEN mod(id, 10) < 7 THEN 'closed' ELSE 'handling' END,
                replied_at = CASE WHEN mod(id, 10) < 7 THEN submitted_at + interval '4 days' END,
                closed_at = CASE WHEN mod(id, 10) < 7 THEN submitted_at + interval '5 days' END,
                reopen_count = CASE WHEN mod(id, 10) >= 7 THEN 0 WHEN mod(id, 500) = 0 THEN 3
                                    WHEN mod(id, 10) = 1 THEN 1 ELSE 0 END,
                supervised_at = CASE WHEN mod(id, 10) >= 7 AND mod(id, 200) = 7 THEN now() END"""
        )
        # Closing ratings: default (level 3) for 1 in 5, otherwise 4 or 5; re-opened ones also get the
        # bad round-0 rating that re-opened them.
        cursor.execute(
            """INSERT INTO appeals_rating (appeal_id, level, resolved, comment, is_default, is_followup, round,
                                           contest, contest_reason, created_at)
               SELECT id, CASE WHEN mod(id, 5) = 0 THEN 3 ELSE 4 + mod(id, 2) END, NULL, '', mod(id, 5) = 0,
                      false, reopen_count, '', '', closed_at
               FROM appeals_appeal WHERE state = 'closed'"""
        )
        cursor.execute(
            """INSERT INTO appeals_rating (appeal_id, level, resolved, comment, is_default, is_followup, round,
                                           contest, contest_reason, created_at)
               SELECT id, 2, false, '', false, false, 0, '', '', replied_at - interval '2 days'
               FROM appeals_appeal WHERE state = 'closed' AND reopen_count > 0"""
        )
        # Three bureaus in the path for 1 in 300 appeals (seq numbers above the template appeal's own).
        for seq, kind, offset in ((101, "dispatched", 0), (102, "rerouted", 1), (103, "rerouted", 2)):
            cursor.execute(
                f"""INSERT INTO appeals_appealevent (appeal_id, seq, kind, actor_id, actor_kind, actor_label,
                        from_state, to_state, reason, data, created_at, prev_hash, hash, row_digest, key_id)
                    SELECT id, {seq}, '{kind}', NULL, 'system', '', '', '', '',
                           jsonb_build_object('bureau_id', (ARRAY{bureaus})[1 + mod(id + {offset}, {len(bureaus)})]),
                           submitted_at, '', md5(id::text || '{seq}'), '', ''
                    FROM appeals_appeal WHERE mod(id, 300) = 2"""
            )
        cursor.execute("ANALYZE appeals_appeal; ANALYZE appeals_rating; ANALYZE appeals_appealevent")
    print(f"shaped in {time.perf_counter() - started:.0f} s")


def timed(label: str, work) -> object:
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label}: {time.perf_counter() - started:7.2f} s wall, {time.process_time() - cpu:6.2f} s CPU; {result}")
    return result


def measure() -> None:
    from django.utils import timezone

    from appeals.models import Appeal
    from followup.models import FollowUp
    from followup.selection import followup_select
    from problems.detection import candidate_ids, problems_sweep
    from problems.models import ProblemTicket

    now = timezone.now()
    total = Appeal.objects.count()
    closed = Appeal.objects.filter(state="closed").count()
    recent = Appeal.objects.filter(state="closed", closed_at__gte=now - timedelta(days=30)).count()
    print(f"appeals: {total}; closed: {closed}; closed in the last 30 days: {recent}")
    FollowUp.objects.all().delete()
    timed("follow-up job, first run (30 days)", lambda: f"created {followup_select(now=now)}")
    timed("follow-up job, second run", lambda: f"created {followup_select(now=now)}")
    timed(
        "follow-up backfill (all closed)",
        lambda: f"created {followup_select(now=now, since=now - timedelta(days=800))}",
    )
    by_reason = dict(FollowUp.objects.values_list("reason").annotate(n=django.db.models.Count("pk")).order_by())
    print(f"follow-ups by reason: {by_reason}")
    ProblemTicket.objects.all().delete()  # a first run that flags, however often the script ran
    timed("problem candidates", lambda: f"{len(candidate_ids())} candidates")
    for label in ("problem sweep, first run", "problem sweep, second run"):
        timed(label, lambda: problems_sweep(now=now))
    one, five, fifteen = os.getloadavg()
    print(f"load average: {one:.2f} {five:.2f} {fifteen:.2f}  cores: {os.cpu_count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appeals", type=int, default=1_000_000)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Needs DATABASE_URL pointing at a PostgreSQL database.")
    populate(args.appeals)
    shape()
    measure()


if __name__ == "__main__":
    main()
