"""Fixtures for the integration tests: partner keys, bureau credentials and a real webhook receiver."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appeals.api.models import ApiClient
from integrations.models import BureauCredential, WebhookEndpoint
from integrations.webhooks import signing
from tests import factories

# Servers started by these tests listen on this range (the project's convention for local test servers).
PORT_RANGE = range(18840, 18900)


def free_port(*, skip: int = 0) -> int:
    """A free port in PORT_RANGE (parallel test workers each find their own); ``skip`` passes over
    the first free ones (a retry after losing a race for a port)."""
    for port in PORT_RANGE:
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            if skip:
                skip -= 1
                continue
            return port
    raise RuntimeError("no free port in the test range")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts its own requests (the limits are per client address, and tests share 127.0.0.1)."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.fixture
def nanhai(city):
    return factories.RegionFactory(code="nanhai", name="南海区", name_en="Nanhai", level="district", parent=city)


@pytest.fixture
def partner(db):
    client, key = ApiClient.create_with_key(name="城市服务App")
    return client, key


@pytest.fixture
def api_key(partner) -> str:
    return partner[1]


def open311_form(key: str, **overrides: str) -> dict[str, str]:
    form = {
        "api_key": key,
        "service_code": "employment",
        "address_string": "佛山市南海区桂城街道南海大道1号",
        "attribute[credit_code]": factories.credit_code(),
        "attribute[enterprise_name]": "佛山市测试制造有限公司",
        "attribute[industry]": "C",
        "attribute[enterprise_size]": "small",
        "first_name": "四",
        "last_name": "李",
        "phone": "13800138000",
        "email": "",
        "description": "春节后工人返岗率低，订单交付困难，希望协助招聘。",
    }
    form.update(overrides)
    return {key_: value for key_, value in form.items() if value is not None}


def make_credential(bureau, user, name: str = "业务系统") -> tuple[BureauCredential, str]:
    prefix, key = BureauCredential.new_key()
    credential = BureauCredential(name=name, bureau=bureau, user=user)
    credential.set_key(key, prefix)
    credential.save()
    return credential, key


@dataclass
class Received:
    event_id: str
    body: dict
    verified: bool


@dataclass
class Receiver:
    """A real HTTP receiver that checks each delivery's signature the way docs/integrations.md says."""

    secret: str
    port: int = field(default_factory=free_port)
    status: int = 204
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/huying"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                ok = signing.verify(
                    secret=receiver.secret,
                    body=body,
                    timestamp=self.headers.get(signing.TIMESTAMP_HEADER, ""),
                    signature_header=self.headers.get(signing.SIGNATURE_HEADER, ""),
                )
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                receiver.received.append(
                    Received(self.headers.get(signing.ID_HEADER, ""), json.loads(body or b"{}"), ok)
                )
                self.send_response(receiver.status if ok else 401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver(secret=WebhookEndpoint.new_secret())
    yield instance
    instance.stop()


@pytest.fixture
def endpoint(hrss, receiver) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(bureau=hrss, url=receiver.url, secret=receiver.secret)
