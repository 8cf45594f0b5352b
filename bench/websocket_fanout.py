"""Websocket fan-out: time from the commit of a dispatch to its receipt at every subscribed console.

    .venv/bin/python bench/websocket_fanout.py                       # 200 and 1,000 consoles
    .venv/bin/python bench/websocket_fanout.py --clients 1000 --dispatches 60 --server-workers 2

What it does, with the real components: a served ASGI app (uvicorn, ``config.asgi``), the
channels-redis layer (REDIS_URL, default redis://127.0.0.1:6379/4, a unique prefix per run), a
database of its own (a temporary SQLite file unless BENCH_DATABASE_URL is given; migrated here).
It creates N officers spread over 20 bureaus, logs each in (a real session cookie), and opens N
websockets from a separate client process, each subscribing to its own bureau's group (the same
AuthMiddlewareStack and subscription check consoles go through). Then it submits appeals through
``appeals.services.appeal_submit`` routed round-robin to the bureaus, and records the time just
before each COMMIT; every console records when its ``appeal.dispatched`` event arrives.
Reported: p50/p99/max latency over all (console, dispatch) receipts, missing receipts, and
events that reached a console of another bureau (must be 0). Routing itself is pinned (the
classifier and rules are not what is measured here).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUREAUS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Client process ---------------------------------------------------------------------------------


async def _client_main(port: int, consoles: list[dict], connect_batch: int, probe: bool) -> None:
    """Open one websocket per console and stamp every frame on arrival; parse only after the run.

    The listener does nothing but ``time.time()`` and an append per frame, so the client's own cost
    stays out of the measured tail; JSON is decoded after the parent says the run is over. A
    monitor task records this process's event-loop lag, to tell a client stall from a server one.
    """
    import websockets

    stamps: list[tuple[int, float, str]] = []
    sockets = []
    origin = f"http://127.0.0.1:{port}"

    async def open_one(console: dict):
        # uvicorn drops a handshake that takes over 10 s (its open timeout); thousands of logins
        # queue behind each other on 2 cores, so retry those few rather than fail the run.
        for attempt in range(5):
            try:
                return await _open_one(console)
            except (websockets.InvalidMessage, websockets.InvalidStatus, OSError, TimeoutError):
                if attempt == 4:
                    raise
                await asyncio.sleep(1 + attempt)
        raise AssertionError("unreachable")

    async def _open_one(console: dict):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/live/",
            additional_headers={"Cookie": f"sessionid={console['session']}", "Origin": origin},
            max_queue=None,
            ping_interval=None,
            open_timeout=300,  # thousands of logins at once queue on a 2-core machine
        )
        await ws.send(json.dumps({"action": "subscribe", "group": f"bureau.{console['bureau_id']}"}))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "subscribed":
            raise RuntimeError(f"subscription refused: {reply}")
        return ws

    for start in range(0, len(consoles), connect_batch):
        batch = consoles[start : start + connect_batch]
        sockets.extend(await asyncio.gather(*(open_one(c) for c in batch)))

    refused = None
    if probe:
        # Isolation check: a console of one bureau must be refused another bureau's group.
        probe_ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/live/",
            additional_headers={"Cookie": f"sessionid={consoles[0]['session']}", "Origin": origin},
        )
        other = next(c["bureau_id"] for c in consoles if c["bureau_id"] != consoles[0]["bureau_id"])
        await probe_ws.send(json.dumps({"action": "subscribe", "group": f"bureau.{other}"}))
        refused = json.loads(await probe_ws.recv()).get("code") == "forbidden"
        await probe_ws.close()

    async def listen(ws, index: int):
        try:
            async for raw in ws:
                stamps.append((index, time.time(), raw))
        except websockets.ConnectionClosed:
            pass

    lags: list[float] = []
    running = True

    async def monitor():
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - before - 0.005) * 1000)

    gc.collect()
    gc.freeze()  # the sockets' objects are long-lived: keep them out of the collector's passes
    listeners = [asyncio.create_task(listen(ws, i)) for i, ws in enumerate(sockets)]
    monitor_task = asyncio.create_task(monitor())
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the parent says when it is done
    running = False
    await monitor_task
    closed = sum(1 for ws in sockets if ws.close_code is not None)
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()

    receipts: list[dict] = []
    leaks: list[dict] = []
    for index, at, raw in stamps:
        console = consoles[index]
        message = json.loads(raw)
        if message.get("type") != "event":
            continue
        if message.get("bureau_id") != console["bureau_id"] or message.get("group") != f"bureau.{console['bureau_id']}":
            leaks.append({"console": console["user_id"], "message": message})
        if message.get("event") == "appeal.dispatched":
            receipts.append({"console": console["user_id"], "appeal_id": message["appeal_id"], "at": at})
    lags.sort()
    print(
        json.dumps(
            {
                "receipts": receipts,
                "leaks": leaks,
                "other_bureau_refused": refused,
                "closed_early": closed,
                "loop_lag_p99_ms": round(lags[int(0.99 * (len(lags) - 1))], 1) if lags else None,
                "loop_lag_max_ms": round(lags[-1], 1) if lags else None,
            }
        ),
        flush=True,
    )


def client_process(args: argparse.Namespace) -> None:
    consoles = json.loads(Path(args.consoles_file).read_text())
    asyncio.run(_client_main(args.port, consoles, args.connect_batch, args.probe))


# --- Parent: set up, serve, dispatch, measure -----------------------------------------------------


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_consoles(n: int) -> list[dict]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from routing.models import Bureau, BureauType, Region, StaffProfile

    types = list(BureauType.objects.exclude(code="dispatch").order_by("code")[:2])
    bureaus = []
    for i in range(BUREAUS // len(types)):
        region, _ = Region.objects.get_or_create(code=f"bench{i}", defaults={"name": f"基准市{i}"})
        for bureau_type in types:
            bureau, _ = Bureau.objects.get_or_create(
                region=region, bureau_type=bureau_type, defaults={"name": f"{region.name}{bureau_type.name}"}
            )
            bureaus.append(bureau)
    officer_group = Group.objects.get(name="officer")
    User = get_user_model()
    consoles = []
    existing = User.objects.filter(username__startswith="bench-officer-").count()
    for i in range(existing, n):
        user = User(username=f"bench-officer-{i}")
        user.set_unusable_password()
        user.save()
        user.groups.add(officer_group)
        StaffProfile.objects.create(user=user, bureau=bureaus[i % len(bureaus)], role="officer")
    for user in User.objects.filter(username__startswith="bench-officer-").select_related("staff_profile")[:n]:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        consoles.append({"user_id": user.pk, "bureau_id": user.staff_profile.bureau_id, "session": session.session_key})
    return consoles


def dispatch_round(bureau_ids: list[int], count: int, interval: float) -> dict[int, tuple[float, int, float]]:
    """Submit ``count`` appeals routed round-robin.

    Returns appeal id -> (time before COMMIT, bureau id, seconds from before COMMIT until the
    commit hooks, including the publish to the channel layer, returned).
    """
    from django.db import transaction

    from appeals import services
    from appeals.services import AppealSubmission
    from routing.decisions import RoutingDecision
    from routing.models import Bureau, Category

    category = Category.objects.filter(is_active=True).order_by("sort_order").first()
    bureaus = {b.pk: b for b in Bureau.objects.filter(pk__in=bureau_ids).select_related("region")}
    target: dict[str, Bureau] = {}
    pinned = lambda **kw: RoutingDecision(bureau=target["bureau"], explanation={"reason": "bench"})  # noqa: E731
    # Pin routing wherever the submission code looks ``decide`` up (a module or a package of them).
    for name, module in list(sys.modules.items()):
        if name.startswith("appeals.services") and hasattr(module, "decide"):
            module.decide = pinned
    commits: dict[int, tuple[float, int, float]] = {}
    for i in range(count):
        bureau = bureaus[bureau_ids[i % len(bureau_ids)]]
        target["bureau"] = bureau
        code = "91440101MA" + f"{secrets.randbelow(10**7):07d}"
        from stdnum.cn import uscc

        with transaction.atomic():
            submitted = services.appeal_submit(
                submission=AppealSubmission(
                    enterprise_name=f"基准测试企业{i}",
                    credit_code=code + uscc.calc_check_digit(code),
                    region=bureau.region,
                    industry="C",
                    enterprise_size="small",
                    contact_name="李四",
                    contact_phone="+8613800138000",
                    category=category,
                    title=f"基准测试诉求{i}",
                    description="用于测量实时推送延迟的诉求。",
                )
            )
            before_commit = time.time()
        commits[submitted.appeal.pk] = (before_commit, bureau.pk, time.time() - before_commit)
        time.sleep(interval)
    return commits


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    """``pid`` and its children (uvicorn's worker processes)."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def cpu_seconds(pids: list[int]) -> float:
    return sum(_proc_cpu(pid) for pid in pids)


def start_server(port: int, config: dict, env: dict[str, str]) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("uvicorn")),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        config["ws"],
        "--workers",
        str(config["workers"]),
        # uvicorn kills a worker whose health-check thread does not answer within 5 s; on a
        # saturated 2-core machine that thread can starve, and the kill drops its consoles.
        "--timeout-worker-healthcheck",
        "60",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if not config["deflate"]:
        command.append("--ws-per-message-deflate=false")
    server_env = {**os.environ, **env, "LIVE_ACCESS_RECHECK_SECONDS": str(config["recheck"])}
    return subprocess.Popen(command, cwd=ROOT, env=server_env)


def run_once(config: dict, args: argparse.Namespace, env: dict[str, str], workdir: Path) -> dict:
    n = config["consoles"]
    consoles = make_consoles(n)
    port = args.port_base
    server = start_server(port, config, env)
    clients: list[subprocess.Popen] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1 if config["workers"] == 1 else 3)  # every worker listening
        procs = config["client_procs"]
        started = time.monotonic()
        for i in range(procs):
            part = consoles[i::procs]
            part_file = workdir / f"consoles-{n}-{i}.json"
            part_file.write_text(json.dumps(part))
            command = [sys.executable, __file__, "--client", "--port", str(port), "--consoles-file", str(part_file)]
            command += ["--connect-batch", str(args.connect_batch)] + (["--probe"] if i == 0 else [])
            clients.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for client in clients:
            line = client.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"client process failed: {line!r}")
        connect_seconds = time.monotonic() - started
        bureau_ids = sorted({c["bureau_id"] for c in consoles})
        # Warm-up (not counted): opens this process's publisher loop and Redis connections.
        dispatch_round(bureau_ids[:1], 2, 0.5)
        time.sleep(1)
        server_pids = _family(server.pid)
        cpu_before = cpu_seconds(server_pids)
        client_cpu_before = cpu_seconds([c.pid for c in clients])
        commits = dispatch_round(bureau_ids, args.dispatches, args.interval)
        time.sleep(2)
        server_cpu = cpu_seconds(server_pids) - cpu_before
        client_cpu = cpu_seconds([c.pid for c in clients]) - client_cpu_before
        restarts = len(set(_family(server.pid)) - set(server_pids))
        results = []
        for client in clients:
            client.stdin.write("done\n")
            client.stdin.flush()
        for client in clients:
            results.append(json.loads(client.stdout.readline()))
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    members: dict[int, int] = {}
    for c in consoles:
        members[c["bureau_id"]] = members.get(c["bureau_id"], 0) + 1
    expected = sum(members.get(bureau_id, 0) for _t, bureau_id, _c in commits.values())
    received = [r for result in results for r in result["receipts"] if r["appeal_id"] in commits]
    latencies = [(r["at"] - commits[r["appeal_id"]][0]) * 1000 for r in received]
    hooks = [c * 1000 for _t, _b, c in commits.values()]
    refused = [r["other_bureau_refused"] for r in results if r["other_bureau_refused"] is not None]
    return {
        **config,
        "dispatches": len(commits),
        "connect_s": round(connect_seconds, 1),
        "expected_receipts": expected,
        "receipts": len(latencies),
        "missing": expected - len(latencies),
        "cross_bureau": sum(len(r["leaks"]) for r in results),
        "closed_early": sum(r["closed_early"] for r in results),
        "worker_restarts": restarts,
        "other_bureau_refused": all(refused) and bool(refused),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "commit_publish_p99_ms": round(percentile(hooks, 99), 1) if hooks else None,
        "server_cpu_ms_per_receipt": round(server_cpu * 1000 / max(1, len(latencies)), 3),
        "client_cpu_ms_per_receipt": round(client_cpu * 1000 / max(1, len(latencies)), 3),
        "client_lag_p99_ms": max((r["loop_lag_p99_ms"] or 0) for r in results),
        "client_lag_max_ms": max((r["loop_lag_max_ms"] or 0) for r in results),
    }


HEADER = [
    "layer",
    "consoles",
    "workers",
    "ws",
    "deflate",
    "recheck",
    "client_procs",
    "connect_s",
    "expected_receipts",
    "receipts",
    "missing",
    "cross_bureau",
    "closed_early",
    "worker_restarts",
    "other_bureau_refused",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "commit_publish_p99_ms",
    "server_cpu_ms_per_receipt",
    "client_cpu_ms_per_receipt",
    "client_lag_p99_ms",
    "client_lag_max_ms",
]
# Issue 17, target 2: commit → console p99 by number of open consoles.
TARGETS = {1000: 150.0, 5000: 300.0}


def summarise(rows: list[dict]) -> None:
    """Print the targets met or missed and the cost curve (each size against the smallest)."""
    print("\nagainst the targets (p99 commit → console; every receipt delivered; no cross-bureau event):")
    for row in rows:
        target = TARGETS.get(row["consoles"])
        if target is None:
            continue
        ok = row["p99_ms"] is not None and row["p99_ms"] < target and row["missing"] == 0 and row["cross_bureau"] == 0
        print(
            f"  {row['consoles']:>5} consoles, {row['workers']} worker(s), recheck {row['recheck']} s: "
            f"p99 {row['p99_ms']} ms (target < {target:.0f}) missing {row['missing']} cross-bureau "
            f"{row['cross_bureau']} -> {'met' if ok else 'MISSED'}"
        )
    print("\ncost curve (relative to the smallest run of the same configuration):")
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["layer"], row["ws"], row["deflate"], row["recheck"]), []).append(row)
    for key, runs in groups.items():
        runs.sort(key=lambda r: r["consoles"])
        base = runs[0]
        print(f"  layer {key[0]}, uvicorn --ws {key[1]}, deflate {key[2]}, recheck {key[3]} s:")
        for row in runs:
            scale = row["consoles"] / base["consoles"]
            cpu = row["server_cpu_ms_per_receipt"] * row["receipts"]
            base_cpu = base["server_cpu_ms_per_receipt"] * base["receipts"] or 1
            print(
                f"    {scale:>4.0f}x = {row['consoles']:>5} consoles, {row['workers']} worker(s): "
                f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                f"server CPU {cpu / 1000:.2f} s for {row['dispatches']} dispatches ({cpu / base_cpu:.1f}x), "
                f"{row['server_cpu_ms_per_receipt']} ms per receipt"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000], help="open consoles per run")
    parser.add_argument("--dispatches", type=int, default=60, help="appeals dispatched per run")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between dispatches")
    parser.add_argument(
        "--server-workers",
        type=int,
        nargs="+",
        default=[0],
        help="uvicorn worker processes to compare (0: 1 up to 1,000 consoles, else 2)",
    )
    parser.add_argument(
        "--recheck",
        type=int,
        nargs="+",
        default=[60],
        help="LIVE_ACCESS_RECHECK_SECONDS values to compare (0: re-read access before every event)",
    )
    parser.add_argument(
        "--deflate",
        choices=["on", "off"],
        nargs="+",
        default=["off"],
        help="uvicorn's permessage-deflate for websockets (browsers ask for it; off is the shipped setting)",
    )
    parser.add_argument(
        "--ws",
        nargs="+",
        default=["websockets-sansio"],
        choices=["websockets", "websockets-sansio", "wsproto"],
        help="uvicorn websocket implementations to compare (websockets-sansio is the shipped one)",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        default=["pubsub"],
        choices=["pubsub", "core"],
        help="channels-redis layers to compare (CHANNELS_LAYER)",
    )
    parser.add_argument("--client-procs", type=int, default=0, help="client processes (0: one per 2,500 consoles)")
    parser.add_argument("--connect-batch", type=int, default=50)
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("BENCH_PORT", "18710")))
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--consoles-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_process(args)
        return

    workdir = Path(tempfile.mkdtemp(prefix="huying-fanout-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HUYING_VAR_DIR": str(workdir),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"),
        "CHANNELS_PREFIX": f"bench{secrets.token_hex(3)}",
        "CACHE_PREFIX": f"bench{secrets.token_hex(3)}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "NOTIFY_KICK_DELIVERY": "false",  # measures the websocket path only
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback
        "STATIC_ROOT": str(workdir / "static"),  # DEBUG=false serves only with a static manifest
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    load = os.getloadavg()
    print(
        f"websocket fan-out: {BUREAUS} bureaus, {args.dispatches} dispatches per run, one every {args.interval}s; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
    )
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}, redis: {env['REDIS_URL'].split('@')[-1]}")
    print(" | ".join(HEADER), flush=True)
    from channels.layers import channel_layers
    from django.conf import settings

    rows = []
    for layer in args.layers:
        # This process publishes (the commit hooks); it must use the same layer as the server.
        backend = {
            "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "core": "channels_redis.core.RedisChannelLayer",
        }
        settings.CHANNEL_LAYERS["default"]["BACKEND"] = backend[layer]
        channel_layers.backends = {}
        for workers in args.server_workers:
            for ws, deflate, recheck in itertools.product(args.ws, args.deflate, args.recheck):
                for n in args.clients:
                    config = {
                        "layer": layer,
                        "ws": ws,
                        "consoles": n,
                        "workers": workers or (1 if n <= 1000 else 2),
                        "deflate": deflate == "on",
                        "recheck": recheck,
                        "client_procs": args.client_procs or max(1, -(-n // 2500)),
                    }
                    row = run_once(config, args, {**env, "CHANNELS_LAYER": layer}, workdir)
                    rows.append(row)
                    print(" | ".join(str(row[h]) for h in HEADER), flush=True)
    summarise(rows)


if __name__ == "__main__":
    main()
