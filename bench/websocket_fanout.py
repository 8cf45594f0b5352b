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


async def _client_main(port: int, consoles: list[dict], connect_batch: int) -> None:
    import websockets

    receipts: list[dict] = []
    leaks: list[dict] = []
    sockets = []

    async def open_one(console: dict):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/live/",
            additional_headers={"Cookie": f"sessionid={console['session']}", "Origin": f"http://127.0.0.1:{port}"},
            max_queue=None,
            ping_interval=None,
            open_timeout=120,  # 1,000 logins at once queue on a 2-core machine
        )
        await ws.send(json.dumps({"action": "subscribe", "group": f"bureau.{console['bureau_id']}"}))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "subscribed":
            raise RuntimeError(f"subscription refused: {reply}")
        return ws

    for start in range(0, len(consoles), connect_batch):
        batch = consoles[start : start + connect_batch]
        sockets.extend(await asyncio.gather(*(open_one(c) for c in batch)))

    # Isolation check: a console of another bureau must be refused that bureau's group.
    probe = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/live/",
        additional_headers={"Cookie": f"sessionid={consoles[0]['session']}", "Origin": f"http://127.0.0.1:{port}"},
    )
    other = next(c["bureau_id"] for c in consoles if c["bureau_id"] != consoles[0]["bureau_id"])
    await probe.send(json.dumps({"action": "subscribe", "group": f"bureau.{other}"}))
    refused = json.loads(await probe.recv()).get("code") == "forbidden"
    await probe.close()

    async def listen(ws, console: dict):
        try:
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message.get("type") != "event":
                    continue
                if (
                    message.get("bureau_id") != console["bureau_id"]
                    or message.get("group") != f"bureau.{console['bureau_id']}"
                ):
                    leaks.append({"console": console["user_id"], "message": message})
                if message.get("event") == "appeal.dispatched":
                    receipts.append({"console": console["user_id"], "appeal_id": message["appeal_id"], "at": now})
        except websockets.ConnectionClosed:
            pass

    listeners = [asyncio.create_task(listen(ws, c)) for ws, c in zip(sockets, consoles, strict=True)]
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the parent says when it is done
    await asyncio.sleep(0)
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()
    print(json.dumps({"receipts": receipts, "leaks": leaks, "other_bureau_refused": refused}), flush=True)


def client_process(args: argparse.Namespace) -> None:
    consoles = json.loads(Path(args.consoles_file).read_text())
    asyncio.run(_client_main(args.port, consoles, args.connect_batch))


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


def dispatch_round(bureau_ids: list[int], count: int, interval: float) -> dict[int, tuple[float, int]]:
    """Submit ``count`` appeals routed round-robin; return appeal id -> (time before COMMIT, bureau id)."""
    from django.db import transaction

    from appeals import services
    from appeals.services import AppealSubmission
    from appeals.services import submission as submission_service
    from routing.decisions import RoutingDecision
    from routing.models import Bureau, Category

    category = Category.objects.filter(is_active=True).order_by("sort_order").first()
    bureaus = {b.pk: b for b in Bureau.objects.filter(pk__in=bureau_ids).select_related("region")}
    target: dict[str, Bureau] = {}
    submission_service.decide = lambda **kw: RoutingDecision(bureau=target["bureau"], explanation={"reason": "bench"})
    commits: dict[int, tuple[float, int]] = {}
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
        commits[submitted.appeal.pk] = (before_commit, bureau.pk)
        time.sleep(interval)
    return commits


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_once(n: int, args: argparse.Namespace, env: dict[str, str], workdir: Path) -> dict:
    consoles = make_consoles(n)
    consoles_file = workdir / f"consoles-{n}.json"
    consoles_file.write_text(json.dumps(consoles))
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("uvicorn")),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets",
            "--workers",
            str(args.server_workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    client = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        client = subprocess.Popen(
            [sys.executable, __file__, "--client", "--port", str(port), "--consoles-file", str(consoles_file)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        line = client.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"client process failed: {line!r}")
        connect_seconds = time.monotonic() - started
        bureau_ids = sorted({c["bureau_id"] for c in consoles})
        # Warm-up (not counted): opens this process's publisher loop and Redis connections.
        dispatch_round(bureau_ids[:1], 1, 0.5)
        commits = dispatch_round(bureau_ids, args.dispatches, args.interval)
        time.sleep(2)
        client.stdin.write("done\n")
        client.stdin.flush()
        result = json.loads(client.stdout.readline())
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    members: dict[int, int] = {}
    for c in consoles:
        members[c["bureau_id"]] = members.get(c["bureau_id"], 0) + 1
    expected = sum(members.get(bureau_id, 0) for _t, bureau_id in commits.values())
    received = [r for r in result["receipts"] if r["appeal_id"] in commits]
    latencies = [(r["at"] - commits[r["appeal_id"]][0]) * 1000 for r in received]
    return {
        "consoles": n,
        "dispatches": len(commits),
        "connect_s": round(connect_seconds, 1),
        "expected_receipts": expected,
        "receipts": len(latencies),
        "missing": expected - len(latencies),
        "cross_bureau": len(result["leaks"]),
        "other_bureau_refused": result["other_bureau_refused"],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--dispatches", type=int, default=40, help="appeals dispatched per run")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between dispatches")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--layers",
        nargs="+",
        default=["pubsub", "core"],
        choices=["pubsub", "core"],
        help="channels-redis layers to compare (CHANNELS_LAYER)",
    )
    parser.add_argument("--connect-batch", type=int, default=100)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
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
    print(
        f"websocket fan-out, channels-redis layers {'/'.join(args.layers)}, "
        f"uvicorn x{args.server_workers}, {BUREAUS} bureaus, "
        f"{args.dispatches} dispatches per run, one every {args.interval}s"
    )
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}, redis: {env['REDIS_URL'].split('@')[-1]}")
    header = [
        "layer",
        "consoles",
        "dispatches",
        "connect_s",
        "expected_receipts",
        "receipts",
        "missing",
        "cross_bureau",
        "other_bureau_refused",
        "p50_ms",
        "p99_ms",
        "max_ms",
    ]
    print(" | ".join(header))
    from channels.layers import channel_layers
    from django.conf import settings

    for layer in args.layers:
        # This process publishes (the commit hooks); it must use the same layer as the server.
        backend = {
            "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "core": "channels_redis.core.RedisChannelLayer",
        }
        settings.CHANNEL_LAYERS["default"]["BACKEND"] = backend[layer]
        channel_layers.backends = {}
        for n in args.clients:
            row = run_once(n, args, {**env, "CHANNELS_LAYER": layer}, workdir)
            row["layer"] = layer
            print(" | ".join(str(row[h]) for h in header), flush=True)


if __name__ == "__main__":
    main()
