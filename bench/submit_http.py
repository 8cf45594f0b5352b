"""Submission throughput through real HTTP, with the app served by real servers, side by side.

For each serving option the script starts the server against PostgreSQL (and Redis for the
cache and the Celery broker), then N concurrent clients file appeals through the channel API
(``POST /api/appeals/``, the same service as the web form: enterprise, appeal, audit events,
routing and outbox rows in one transaction) or through the web form itself (GET the form for the
CSRF cookie and idempotency token, then POST it). Rate limits are switched off
(``RATELIMIT_ENABLE=false``). It reports accepted appeals per second and latency percentiles.

    .venv/bin/python bench/submit_http.py --clients 32 --duration 20
    .venv/bin/python bench/submit_http.py --via form --servers gunicorn-gthread,uvicorn

Needs PostgreSQL (``--database-url``) and Redis (``--redis-url``). Both are emptied first (the
database is dropped and re-created, the Redis database flushed) unless ``--keep-data`` is given:
point them at databases of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"

SERVERS = {
    # The production settings as shipped (config/gunicorn.py: sync, one process per core);
    # --workers does not apply.
    "gunicorn": lambda port, workers: [
        str(BIN / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.py"), "config.wsgi:application",
        "-b", f"127.0.0.1:{port}", "--log-level", "warning",
    ],
    # Pre-fork WSGI, one request per process at a time, two processes per --workers.
    "gunicorn-sync": lambda port, workers: [
        str(BIN / "gunicorn"), "config.wsgi:application", "-k", "sync", "-w", str(workers * 2),
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
    ],
    # gthread with few threads per process: keeps connections alive (sync closes each one) while
    # most of the concurrency comes from processes rather than from threads sharing one GIL.
    "gunicorn-gthread-1": lambda port, workers: [
        str(BIN / "gunicorn"), "config.wsgi:application", "-k", "gthread", "-w", str(workers * 2), "--threads", "1",
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
    ],
    "gunicorn-gthread-2": lambda port, workers: [
        str(BIN / "gunicorn"), "config.wsgi:application", "-k", "gthread", "-w", str(workers * 2), "--threads", "2",
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
    ],
    # WSGI with threads in each process (Django's psycopg pool shared by the threads).
    "gunicorn-gthread": lambda port, workers: [
        str(BIN / "gunicorn"), "config.wsgi:application", "-k", "gthread", "-w", str(workers), "--threads", "8",
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
    ],
    # ASGI (the Channels application), sync views run in a thread per request via asgiref.
    "uvicorn": lambda port, workers: [
        str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning", "--backlog", "2048",
    ],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def credit_code(n: int) -> str:
    from stdnum.cn import uscc

    body = f"91440101MB{n:07d}"
    return body + uscc.calc_check_digit(body)


# --- A tiny keep-alive HTTP/1.1 client (no third-party client needed) -----------------------------


@dataclass
class Conn:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
            if self.cookies:
                lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            try:
                self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _sep, value = line.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.lower() == "close":
                        close = True
                    elif name == "set-cookie":
                        key, _eq, rest = value.partition("=")
                        self.cookies[key] = rest.split(";", 1)[0]
                data = await self.reader.readexactly(length) if length else b""
                if close:
                    self.close()
                return status, data
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def cpu_seconds(pgid: int) -> tuple[float, float, float]:
    """User + system CPU seconds of (the server's process group, PostgreSQL, Redis), live processes.

    PostgreSQL and Redis are counted whole (every backend), so other work on them shows up too.
    """
    server = database = redis = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                head, _paren, rest = handle.read().rpartition(")")
        except OSError:
            continue
        fields = rest.split()  # fields after "(comm)": state, ppid, pgrp, ...
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        comm = head.partition("(")[2]
        if int(fields[2]) == pgid:
            server += ticks
        elif comm.startswith("postgres"):
            database += ticks
        elif comm.startswith("redis-server"):
            redis += ticks
    tick = os.sysconf("SC_CLK_TCK")
    return server / tick, database / tick, redis / tick


async def run_clients(
    *, port: int, clients: int, duration: float, warmup: float, via: str, key: str, region: str, pgid: int
):
    latencies: list[float] = []
    cpu: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(random.randint(0, 10**6) * 10, 10**9))
    stop_at = time.perf_counter() + warmup + duration
    measure_from = time.perf_counter() + warmup
    token_re = re.compile(rb'name="idempotency_token" value="([0-9a-f-]+)"')
    csrf_re = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
    region_re = re.compile(rb'<option value="(\d+)">')
    category_re = re.compile(rb'name="category" value="(\d+)"')

    async def api_once(conn: Conn) -> int:
        payload = {
            "enterprise_name": "佛山市压测制造有限公司",
            "credit_code": credit_code(next(counter) % 10**7),
            "region": region,
            "industry": "C",
            "enterprise_size": "small",
            "contact_name": "测试",
            "contact_phone": "13800138000",
            "category": random.choice(["employment", "tax", "financing", "export", "licensing"]),
            "title": "压测诉求：招工困难",
            "description": "春节后工人返岗率低，订单交付困难，希望协助招聘。" * 3,
        }
        status, _ = await conn.request(
            "POST",
            "/api/appeals/",
            json.dumps(payload).encode(),
            {
                "Content-Type": "application/json",
                "Authorization": f"ApiKey {key}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        return status

    async def form_once(conn: Conn) -> int:
        status, page = await conn.request("GET", "/")
        if status != 200:
            return status
        fields = {
            "csrfmiddlewaretoken": csrf_re.search(page).group(1).decode(),
            "idempotency_token": token_re.search(page).group(1).decode(),
            "enterprise_name": "佛山市压测制造有限公司",
            "credit_code": credit_code(next(counter) % 10**7),
            "region": region_re.search(page).group(1).decode(),
            "industry": "C",
            "enterprise_size": "small",
            "contact_name": "测试",
            "contact_phone": "13800138000",
            "category": random.choice(category_re.findall(page)[:5]).decode(),
            "appeal_type": "help",
            "urgency": "normal",
            "title": "压测诉求：招工困难",
            "description": "春节后工人返岗率低，订单交付困难，希望协助招聘。" * 3,
        }
        status, _ = await conn.request(
            "POST",
            "/",
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/"},
        )
        return 201 if status == 302 else status

    async def helpdesk_once(conn: Conn) -> int:
        # django-helpdesk's public ticket form: GET it (CSRF cookie and token), then POST it.
        status, page = await conn.request("GET", "/tickets/submit/")
        if status != 200:
            return status
        fields = {
            "csrfmiddlewaretoken": csrf_re.search(page).group(1).decode(),
            "title": "压测诉求：招工困难",
            "body": "春节后工人返岗率低，订单交付困难，希望协助招聘。" * 3,
            "submitter_email": f"bench{next(counter)}@example.com",
        }
        status, _ = await conn.request(
            "POST",
            "/tickets/submit/",
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/"},
        )
        return 201 if status == 302 else status

    once = {"api": api_once, "form": form_once, "helpdesk": helpdesk_once}[via]

    async def client() -> None:
        conn = Conn("127.0.0.1", port)
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                break
            try:
                status = await once(conn)
            except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError):
                status = 0
                conn.close()
            end = time.perf_counter()
            if start >= measure_from:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    latencies.append(end - start)
        conn.close()

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu.append((*cpu_seconds(pgid), time.process_time()))
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        cpu.append((*cpu_seconds(pgid), time.process_time()))

    await asyncio.gather(sample_cpu(), *(client() for _ in range(clients)))
    # (server, PostgreSQL, Redis, this client) CPU seconds while measuring
    return latencies, statuses, tuple(after - before for before, after in zip(cpu[0], cpu[1], strict=True))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else values[0]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def prepare(env: dict, *, fresh: bool) -> tuple[str, str]:
    """Create and migrate the database, load regions and bureaus, create an API key.

    ``fresh``: start from an empty database and an empty Redis database. Every run adds thousands
    of appeals and, with no Celery worker running, as many queued messages; left to accumulate
    they make later runs slower than earlier ones.
    """
    db = urlparse(env["DATABASE_URL"])
    name = db.path.lstrip("/")
    admin_url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    import psycopg
    import redis

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    if fresh:
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = (
        "import django; django.setup()\n"
        "from routing.taxonomy import load_taxonomy; load_taxonomy(region_codes=['foshan'])\n"
        "from appeals.api.models import ApiClient\n"
        "client, key = ApiClient.create_with_key(name='bench')\nprint(key)\n"
    )
    out = subprocess.run([PY, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1], "foshan"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per server")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of load before measuring (workers import, train, connect)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (gunicorn-sync runs twice as many)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: " + ", ".join(SERVERS))
    parser.add_argument("--via", choices=["api", "form"], default="api")
    parser.add_argument(
        "--helpdesk",
        action="store_true",
        help="after each round of Huying servers, serve django-helpdesk's public ticket form the same way "
        "(built on first use into var/helpdesk-bench/, see bench/helpdesk_site.py) and print the ratio",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat every server this many times, interleaved")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the appeals and queued messages of earlier runs (default: start from empty databases)",
    )
    parser.add_argument("--no-pool", action="store_true", help="also run each server without the psycopg pool")
    parser.add_argument(
        "--no-kick",
        action="store_true",
        help="also run each server with NOTIFY_KICK_DELIVERY=false (no Celery message per transaction; "
        "the periodic re-dispatch delivers)",
    )
    parser.add_argument(
        "--baseline",
        help="another checkout of the project (e.g. a git worktree of an older commit): each server also "
        "serves that code, right after this one, against the same database, for a before/after in one run",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/huying_bench"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"))
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_PREFIX": "bench",
        "CHANNELS_PREFIX": "bench",
        "RATELIMIT_ENABLE": "false",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    key, region = prepare(env, fresh=not args.keep_data)
    if args.baseline:  # its pages need their own collected static files (manifest storage)
        subprocess.run(
            [PY, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=args.baseline,
            env={**env, "PYTHONPATH": str(Path(args.baseline).resolve())},
            check=True,
        )
    helpdesk_env = None
    if args.helpdesk:
        import psycopg

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import helpdesk_site

        helpdesk_site.build()
        hd_url = args.database_url + "_helpdesk"  # a database of its own beside Huying's
        admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
        hd_name = urlparse(hd_url).path.lstrip("/")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{hd_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{hd_name}"')
        helpdesk_env = {**env, "DATABASE_URL": hd_url}
        helpdesk_site.prepare(helpdesk_env)
    load_before = f"{os.getloadavg()[0]:.1f}"
    runs = []

    def measure(label: str, command: list[str], cwd: Path, run_env: dict, via: str) -> None:
        port = free_port()
        proc = subprocess.Popen(command(port), cwd=cwd, env=run_env, start_new_session=True)
        try:
            wait_for(port)
            time.sleep(1.0)
            latencies, statuses, cpu_used = asyncio.run(
                run_clients(
                    port=port,
                    clients=args.clients,
                    duration=args.duration,
                    warmup=args.warmup,
                    via=via,
                    key=key,
                    region=region,
                    pgid=proc.pid,
                )
            )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        accepted = statuses.get(201, 0)
        runs.append(
            (
                label,
                accepted / args.duration,
                percentile(latencies, 50) * 1000,
                percentile(latencies, 95) * 1000,
                percentile(latencies, 99) * 1000,
                sum(v for k, v in statuses.items() if k != 201),
                *(seconds * 1000 / accepted if accepted else float("nan") for seconds in cpu_used),
            )
        )
        print(f"{label}: {runs[-1][1]:.0f}/s, statuses {statuses}, load {os.getloadavg()[0]:.1f}", file=sys.stderr)

    checkouts = [(ROOT, "")] + ([(Path(args.baseline).resolve(), " [baseline]")] if args.baseline else [])
    for _round in range(args.rounds):
        for name in [s.strip() for s in args.servers.split(",") if s.strip()]:
            variants = itertools.product(
                checkouts, [True, False] if args.no_pool else [True], [True, False] if args.no_kick else [True]
            )
            for (code, suffix), pool, kick in variants:
                run_env = {
                    **env,
                    "DATABASE_POOL": "true" if pool else "false",
                    "NOTIFY_KICK_DELIVERY": "true" if kick else "false",
                    "PYTHONPATH": str(code),
                }
                label = name + ("" if pool else " (no pool)") + ("" if kick else " (no kick)") + suffix
                measure(label, lambda port, name=name: SERVERS[name](port, args.workers), code, run_env, args.via)
        if helpdesk_env is not None:
            measure(
                "django-helpdesk 2.6.1 (gunicorn sync, 2 workers)",
                lambda port: helpdesk_site.server_command(port, 2),
                helpdesk_site.PROJECT,
                helpdesk_site.server_env(helpdesk_env),
                "helpdesk",
            )

    print(f"\nSubmissions via {args.via}, {args.clients} clients, {args.duration:.0f} s each, {args.workers} workers")
    print(
        f"load average before/after: {load_before} / {os.getloadavg()[0]:.1f} (other work on the machine skews figures)"
    )
    print("CPU ms per accepted appeal: app = the server's processes, PG = every PostgreSQL process,")
    print("client = this load generator (it shares the 2 cores with the server and the database)")
    print("| server | accepted/s | p50 ms | p95 ms | p99 ms | errors | CPU app | CPU PG | CPU Redis | CPU client |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, rate, p50, p95, p99, errors, app, pg, redis, client in runs:
        print(
            f"| {label} | {rate:.0f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {errors} "
            f"| {app:.1f} | {pg:.1f} | {redis:.1f} | {client:.1f} |"
        )
    if args.helpdesk:
        theirs = [run[1] for run in runs if run[0].startswith("django-helpdesk")]
        for label in dict.fromkeys(run[0] for run in runs if not run[0].startswith("django-helpdesk")):
            ours = [run[1] for run in runs if run[0] == label]
            print(
                f"{label} ÷ django-helpdesk, accepted/s (medians of {len(ours)} and {len(theirs)} runs): "
                f"{statistics.median(ours) / statistics.median(theirs):.2f}×"
            )


if __name__ == "__main__":
    main()
