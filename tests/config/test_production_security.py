"""Production settings: `check --deploy` is clean, the static manifest is required, CSP has no inline script."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        # Production signs the audit trail with its own key (appeals.E001 otherwise).
        AUDIT_KEYS=f"k1:{secrets.token_urlsafe(40)}",
        ALLOWED_HOSTS="huying.example.gov.cn",
        HUYING_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_web_process_refuses_to_start_without_the_static_manifest(tmp_path):
    env = production_env(tmp_path)
    for module in ("config.wsgi", "config.asgi"):
        result = run(["-c", f"import {module}"], env)
        assert result.returncode != 0
        assert "collectstatic" in result.stderr
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')
    result = run(["-c", "import config.wsgi"], env)
    assert result.returncode == 0, result.stderr


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def test_no_template_served_to_browsers_has_inline_script():
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            if "/email/" in path.as_posix():
                continue  # e-mail bodies are read in mail clients, not under this site's CSP
            text = path.read_text(encoding="utf-8")
            if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_unsafe_inline(client):
    response = client.get(reverse("portal:submit"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
