"""Huying as deployed, started in a temporary folder: nginx in front of gunicorn (pages, forms, API) and
uvicorn (/ws/), from the project's own deploy/nginx template, with collected static files.

The three processes run in production mode (``DEBUG=false``) on their own database (a fresh PostgreSQL
database when ``DATABASE_URL`` points at PostgreSQL, else a SQLite file) and share Redis for the channel
layer and the rate-limit counters, as production does. nginx runs without root from the folder
(``nginx -p``). Ports come from ``HUYING_STACK_PORT`` (default 18410) upwards, three per xdist worker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

SEED = r"""
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from routing.models import Bureau, BureauType, Category, Region, StaffProfile

city, _ = Region.objects.get_or_create(code="foshan", defaults={"name": "佛山市", "name_en": "Foshan"})
def bureau(code):
    kind = BureauType.objects.get(code=code)
    return Bureau.objects.get_or_create(region=city, bureau_type=kind, defaults={"name": city.name + kind.name})[0]
hrss, centre = bureau("hrss"), bureau("dispatch")
for name, role, unit, display in (("officer1", "officer", hrss, "王承办"), ("disp1", "dispatcher", centre, "陈分拨")):
    user = get_user_model().objects.create_user(name, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, bureau=unit, role=role, display_name=display)
print("SEED" + json.dumps({"region": city.pk, "employment": Category.objects.get(code="employment").pk}))
"""


@dataclass
class Stack:
    """Addresses and files of a running stack."""

    base: str
    web: str
    websockets: str
    folder: Path
    env: dict[str, str]
    seed: dict
    processes: list[subprocess.Popen] = field(default_factory=list)
    database: str | None = None

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def ports(worker: str) -> tuple[int, int, int]:
    """Three ports for this xdist worker ("gw0" …, or "master")."""
    base = int(os.environ.get("HUYING_STACK_PORT", "18410"))
    index = int(worker[2:]) if worker.startswith("gw") else 0
    first = base + 3 * index
    return first, first + 1, first + 2


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _database(folder: Path) -> tuple[str, str | None]:
    """A fresh database for the stack: PostgreSQL beside DATABASE_URL's, else a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{folder / 'stack.sqlite3'}", None
    parts = urlsplit(url)
    name = f"huying_stack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _psql(url, f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _psql(url: str, sql: str) -> None:
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def _wait(url: str, process_list: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        if any(p.poll() is not None for p in process_list) or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.3)


def start(folder: Path, worker: str, **overrides: str) -> Stack:
    """Collect static files, migrate and seed a database, start gunicorn, uvicorn and nginx."""
    http_port, web_port, ws_port = ports(worker)
    busy = [port for port in (http_port, web_port, ws_port) if not _port_free(port)]
    if busy:
        raise RuntimeError(f"ports {busy} are in use (HUYING_STACK_PORT picks others)")
    database_url, database = _database(folder)
    redis = os.environ["REDIS_URL"]
    tag = f"huying-stack-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_ALLOW_ASYNC"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "stack-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP in the test: the cookies must travel without TLS.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        # nginx reaches gunicorn and uvicorn from 127.0.0.1: the only proxy Django believes.
        "TRUSTED_PROXIES": "127.0.0.1",
        "ACCESS_LOG": "true",
        "DATABASE_URL": database_url,
        "DATABASE_POOL": "0",
        "DATABASE_REPLICA_URL": "",
        "HUYING_VAR_DIR": str(folder / "var"),
        "PRIVATE_MEDIA_ROOT": str(folder / "var" / "private"),
        "STATIC_ROOT": str(folder / "static"),
        # Channel layer and rate-limit counters shared by gunicorn and uvicorn through Redis; the broker
        # stays embedded (no worker runs here) so nothing is queued into a shared server.
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CHANNEL_LAYER_URL": redis,
        "CACHE_URL": redis,
        "CHANNELS_PREFIX": tag,
        "CACHE_PREFIX": tag,
        "NOTIFY_KICK_DELIVERY": "false",
        "LOGIN_FAILURE_LIMIT": "50",
        # The test stack serves plain HTTP on loopback (production terminates TLS in nginx).
        "SECURE_SSL_REDIRECT": "false",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        **overrides,
    }
    python = sys.executable

    def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, **kwargs
        )

    # collectstatic (compressing every file) and migrate take about as long; run them side by side.
    collect = subprocess.Popen(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        manage("migrate", "--noinput", "-v", "0", timeout=300)
    finally:
        _, collect_errors = collect.communicate(timeout=300)
    if collect.returncode:
        raise RuntimeError(f"collectstatic failed: {collect_errors.decode(errors='replace')}")
    seeded = manage("shell", "-c", f"PASSWORD={PASSWORD!r}\n{SEED}", timeout=120)
    seed = json.loads(next(x for x in seeded.stdout.splitlines() if x.startswith("SEED"))[4:])

    nginx_dir = folder / "nginx"
    subprocess.run(
        [
            python,
            str(ROOT / "deploy" / "nginx" / "render.py"),
            "standalone",
            "--out",
            str(nginx_dir),
            "--listen",
            f"127.0.0.1:{http_port}",
            "--web",
            f"127.0.0.1:{web_port}",
            "--websockets",
            f"127.0.0.1:{ws_port}",
            "--static-root",
            str(folder / "static"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    stack = Stack(
        base=f"http://127.0.0.1:{http_port}",
        web=f"http://127.0.0.1:{web_port}",
        websockets=f"http://127.0.0.1:{ws_port}",
        folder=folder,
        env=env,
        seed=seed,
        database=database,
    )
    commands = {
        "gunicorn": [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        "uvicorn": [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(ws_port),
            "--ws",
            "websockets",
            "--proxy-headers",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        "nginx": [
            NGINX or "nginx",
            "-p",
            str(nginx_dir),
            "-c",
            str(nginx_dir / "nginx.conf"),
            "-e",
            str(nginx_dir / "error.log"),
            "-g",
            "daemon off;",
        ],
    }
    try:
        for name, command in commands.items():
            log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it until stop()
            stack.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        _wait(f"{stack.web}/track/", stack.processes)
        _wait(f"{stack.base}/track/", stack.processes)
    except Exception as exc:
        logs = "\n".join(f"--- {name}\n{stack.log(name)[-3000:]}" for name in commands)
        stop(stack)
        raise RuntimeError(f"the stack did not start: {exc}\n{logs}") from exc
    return stack


def stop(stack: Stack) -> None:
    """Stop the processes and drop the stack's database."""
    for process in reversed(stack.processes):
        process.send_signal(signal.SIGINT)  # quick shutdown for gunicorn and nginx, graceful for uvicorn
    for process in stack.processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    if stack.database:
        _psql(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {stack.database} WITH (FORCE)")
