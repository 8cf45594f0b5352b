"""HTTP through nginx as deployed: static files, filing and tracking, the real client behind the proxy,
and the clear page for an oversized body."""

from __future__ import annotations

import http.client
import json
import re
import socket
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from tests import factories

pytestmark = [pytest.mark.nginx, pytest.mark.slow, pytest.mark.timeout(300)]


class Browserless:
    """A cookie-keeping HTTP client that connects from a chosen local address (127.0.0.x)."""

    def __init__(self, base: str, source: str = "127.0.0.1") -> None:
        parts = urlsplit(base)
        self.host, self.port, self.source = parts.hostname or "127.0.0.1", parts.port or 80, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=(self.source, 0))
        sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = f"http://{self.host}:{self.port}"
            sent["Referer"] = f"http://{self.host}:{self.port}{path}"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response, text

    def csrf(self, path: str) -> str:
        response, text = self.request("GET", path)
        assert response.status == 200, text[:500]
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)

    def lookup(self, number: str = "GD0000000000", code: str = "WRONGCODE", headers: dict | None = None) -> int:
        token = self.csrf("/track/")
        body = {"csrfmiddlewaretoken": token, "tracking_number": number, "access_code": code}
        return self.request("POST", "/track/", body, headers)[0].status


def test_static_files_come_from_nginx_with_long_caching(stack):
    manifest = json.loads((stack.folder / "static" / "staticfiles.json").read_text())
    hashed = next(name for source, name in manifest["paths"].items() if source.endswith(".css"))
    response, _ = Browserless(stack.base).request("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert "public" in response.headers["Cache-Control"]
    assert response.headers["Content-Encoding"] == "gzip"  # whitenoise's .gz, served by nginx's gzip_static
    assert f"/static/{hashed}" not in stack.log("gunicorn")  # gunicorn never saw it


def test_file_an_appeal_on_the_form_and_track_it(stack):
    client = Browserless(stack.base)
    token = client.csrf("/")
    form = {
        "csrfmiddlewaretoken": token,
        "enterprise_name": "佛山市禅城区测试五金制品有限公司",
        "credit_code": factories.credit_code(),
        "region": str(stack.seed["region"]),
        "industry": "C",
        "enterprise_size": "small",
        "contact_name": "王小明",
        "contact_phone": "138 0013 8000",
        "contact_email": "",
        "category": str(stack.seed["employment"]),
        "urgency": "normal",
        "urgency_reason": "",
        "appeal_type": "help",
        "title": "经nginx提交的诉求",
        "description": "今年订单增加，需要10名熟练焊工，多次招聘无果，希望人社部门协助对接技工院校。",
        "idempotency_token": str(uuid.uuid4()),
        "homepage_url": "",
    }
    response, text = client.request("POST", "/", form)
    assert response.status == 302, text[:2000]
    confirmation = response.headers["Location"]
    assert confirmation.startswith("/submitted/")
    response, text = client.request("GET", confirmation)
    number = re.search(r'id="tracking-number">([^<]+)<', text).group(1).strip()
    code = re.search(r'id="access-code">([^<]+)<', text).group(1).strip()

    tracker = Browserless(stack.base, "127.0.0.4")
    token = tracker.csrf("/track/")
    response, _ = tracker.request(
        "POST", "/track/", {"csrfmiddlewaretoken": token, "tracking_number": number, "access_code": code}
    )
    assert response.status == 302
    response, text = tracker.request("GET", response.headers["Location"])
    assert response.status == 200
    assert "经nginx提交的诉求" in text
    # The access log names the real client (nginx forwarded 127.0.0.4), not nginx's own address.
    assert re.search(rf'^.*127\.0\.0\.4 "GET /track/{number}/" 200 ', stack.log("gunicorn"), re.MULTILINE)


def test_clients_behind_the_proxy_get_separate_rate_limit_buckets(stack):
    """PORTAL_RATE_LOOKUP_IP is 3/m in this stack (tests/deploy/conftest.py)."""
    first, second = Browserless(stack.base, "127.0.0.2"), Browserless(stack.base, "127.0.0.3")
    # A made-up tracking number is answered (400: no such appeal format) until the limit is reached.
    assert [first.lookup() for _ in range(3)] == [400, 400, 400]
    assert first.lookup() == 429
    assert second.lookup() == 400  # a different client nginx forwarded: a bucket of its own

    # The limited client types another address into X-Forwarded-For: nginx appends the real one,
    # Django takes the first untrusted hop from the right, the bucket is still the limited one.
    assert first.lookup(headers={"X-Forwarded-For": "198.51.100.23"}) == 429
    # Straight to gunicorn, from an address that is not a trusted proxy: the header is ignored.
    direct = Browserless(stack.web, "127.0.0.2")
    assert direct.lookup(headers={"X-Forwarded-For": "198.51.100.24"}) == 429
    assert "198.51.100.2" not in stack.log("gunicorn")


def _raw_post(base: str, path: str, length: int) -> tuple[int, str, str]:
    """Announce a body of ``length`` bytes and read what nginx answers before any is sent."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
        )
        sock.sendall(b"--x\r\n" + b"a" * 1024)
        raw = b""
        while b"\r\n\r\n" not in raw and (chunk := sock.recv(65536)):
            raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(b":", 1) for h in head.split(b"\r\n")[1:])}
        # Read exactly the announced body: nginx keeps the connection open a while (lingering close).
        while len(body) < int(headers[b"content-length"]) and (chunk := sock.recv(65536)):
            body += chunk
    status = int(head.split()[1])
    return status, headers[b"content-type"].decode(), body.decode("utf-8", errors="replace")


def test_an_oversized_body_gets_a_clear_page(stack):
    from django.conf import settings

    too_big = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    status, content_type, body = _raw_post(stack.base, "/", too_big)
    assert status == 413
    assert content_type.startswith("text/html")
    assert "提交的内容太大" in body and "Upload too large" in body
    assert f"最多 {settings.ATTACHMENT_MAX_FILES} 个" in body
    status, content_type, body = _raw_post(stack.base, "/api/appeals/", too_big)
    assert status == 413
    assert content_type.startswith("application/json")
    assert json.loads(body)["code"] == "request_too_large"
