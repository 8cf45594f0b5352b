"""Benchmark: how long ``seed_demo``'s bulk path takes to write N appeals (and verify_audit to check them).

Usage (from the repository root):

    .venv/bin/python bench/seed_bulk.py --appeals 200000                     # fresh SQLite file in /tmp
    .venv/bin/python bench/seed_bulk.py --appeals 200000 \\
        --database-url postgres://postgres@127.0.0.1:5432/huying_seed_bench  # dropped and recreated

Prints the time to migrate, to generate, appeals per second, events and ratings written, the
database size, the peak memory of the process, and the time ``verify_audit`` takes over the result.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (the database is recreated); default SQLite")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    if args.database_url:
        _recreate_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
        backend = "PostgreSQL"
    else:
        path = Path(tempfile.mkdtemp(prefix="huying-seed-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        backend = f"SQLite ({path})"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from appeals import demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    result = demo.generate_bulk(args.appeals, seed=1, batch_size=args.batch_size, progress=True)
    generated = time.perf_counter()
    verify_seconds = None
    if not args.skip_verify:
        import io

        call_command("verify_audit", "--quiet", stdout=io.StringIO())
        verify_seconds = time.perf_counter() - generated
    size = _database_size(connection, args.database_url)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = generated - migrated
    print()
    print(f"backend:            {backend}")
    print(f"appeals:            {result.appeals:,}")
    print(f"events:             {result.events:,}")
    print(f"ratings:            {result.ratings:,}")
    print(f"enterprises:        {result.enterprises:,}")
    print(f"migrate:            {migrated - started:.1f} s")
    print(f"generate:           {seconds:.1f} s  ({result.appeals / seconds:,.0f} appeals/s)")
    print(f"1,000,000 at rate:  {1_000_000 / (result.appeals / seconds) / 60:.1f} min (extrapolated)")
    if verify_seconds is not None:
        print(f"verify_audit:       {verify_seconds:.1f} s  ({result.events / verify_seconds:,.0f} events/s)")
    print(f"database size:      {size / 1e6:,.0f} MB")
    print(f"peak memory (RSS):  {peak_mb:,.0f} MB")


def _recreate_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _database_size(connection, url: str) -> int:
    with connection.cursor() as cursor:
        if url:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
        cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
