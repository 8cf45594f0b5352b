"""Benchmark: what the audit trail's integrity checks cost on N bulk-seeded appeals.

Usage (from the repository root):

    .venv/bin/python bench/audit_integrity.py --appeals 20000                 # fresh SQLite file in /tmp
    .venv/bin/python bench/audit_integrity.py --appeals 20000 \\
        --database-url postgres://postgres@127.0.0.1:5432/huying_audit_bench  # dropped and recreated

Seeds N appeals with ``appeals.demo.generate_bulk`` (signed events, heads on the rows), then times
``manage.py verify_audit`` (chains + appeal rows + checkpoint), building one ``AuditCheckpoint``
(and its stored size per appeal), exporting it as JSON, and signing events with ``build_event``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=20_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (the database is recreated); default SQLite")
    args = parser.parse_args()
    if args.database_url:
        import psycopg

        base, name = args.database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = args.database_url
    else:
        path = Path(tempfile.mkdtemp(prefix="huying-audit-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from appeals import audit, audit_checkpoints, demo
    from appeals.models import Appeal

    call_command("migrate", verbosity=0)
    result = demo.generate_bulk(args.appeals, seed=1, batch_size=2000, progress=False)

    started = time.perf_counter()
    checkpoint = audit_checkpoints.build_checkpoint()
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    call_command("verify_audit", "--quiet", stdout=io.StringIO())
    verify_seconds = time.perf_counter() - started

    started = time.perf_counter()
    export = io.StringIO()
    audit_checkpoints.export_checkpoint(checkpoint, export)
    export_seconds = time.perf_counter() - started

    appeal = Appeal.objects.first()
    rounds = 2000
    started = time.perf_counter()
    for seq in range(rounds):
        audit.build_event(appeal=appeal, seq=seq + 1, prev_hash="0" * 64, kind="bench", data={"n": seq})
    sign_us = (time.perf_counter() - started) / rounds * 1e6

    print(f"backend:               {connection.vendor}")
    print(f"appeals / events:      {result.appeals:,} / {result.events:,}")
    print(f"verify_audit:          {verify_seconds:.1f} s ({result.events / verify_seconds:,.0f} events/s)")
    print(f"checkpoint build:      {build_seconds:.2f} s")
    print(
        f"checkpoint stored:     {len(checkpoint.heads):,} bytes "
        f"({len(checkpoint.heads) / result.appeals:.1f} bytes/appeal)"
    )
    print(f"checkpoint JSON:       {len(export.getvalue()):,} bytes in {export_seconds:.2f} s")
    print(f"build_event (sign):    {sign_us:.0f} µs per event")


if __name__ == "__main__":
    main()
