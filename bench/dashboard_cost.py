"""Cost curve of the dashboard: CPU of one computed page (and of its cached copy) at 1×, 4× and 16× the period.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying_h8_dash REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/dashboard_cost.py            # on bench/analytics_queries.py's data

For periods of 7, 28 and 112 days ending on the data set's last day, times the whole page through
Django's test client with its sections computed (as after a rollup change) and then from the
cache, and reports wall time, this process's CPU (Python: selectors, tables, template) and the
PostgreSQL backend's CPU (read from /proc for the connection's backend pid), so the figures hold
up on a loaded machine better than wall time does.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from analytics import dashboard  # noqa: E402
from tests import factories  # noqa: E402

END = date(2026, 11, 22)


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(client: Client, url: str, pid: int, *, cold: bool) -> tuple[float, float, float]:
    if cold:
        dashboard.data_changed()
    wall, cpu, pg = time.perf_counter(), time.process_time(), backend_cpu(pid)
    assert client.get(url).status_code == 200
    return time.perf_counter() - wall, time.process_time() - cpu, backend_cpu(pid) - pg


def main() -> None:
    get_user_model().objects.filter(username="bench-dashboard-cost").delete()
    manager = factories.staff_user("manager", None, username="bench-dashboard-cost")
    client = Client()
    client.force_login(manager)
    rows = []
    with override_settings(ALLOWED_HOSTS=["*"]):
        client.get("/analytics/")  # session, permissions, connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        for scale, days in ((1, 7), (4, 28), (16, 112)):
            url = f"/analytics/?start={END - timedelta(days=days - 1)}&end={END}"
            computed = measure(client, url, pid, cold=True)
            cached = min((measure(client, url, pid, cold=False) for _ in range(3)), key=lambda r: r[0])
            rows.append((scale, days, computed, cached))
    manager.delete()
    print(f"load average (1 min): {os.getloadavg()[0]:.1f}")
    print("| scale | period | computed: wall ms | app CPU ms | PostgreSQL CPU ms | cached: wall ms | app CPU ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for scale, days, (wall, cpu, pg), (cwall, ccpu, _cpg) in rows:
        print(
            f"| {scale}× | {days} days | {wall * 1000:,.0f} | {cpu * 1000:,.0f} | {pg * 1000:,.0f} "
            f"| {cwall * 1000:,.0f} | {ccpu * 1000:,.0f} |"
        )


if __name__ == "__main__":
    main()
