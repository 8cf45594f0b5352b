"""DEBUG=false before collectstatic: the storage still renders pages (the web process itself refuses to
start and says what to run: tests/config/test_production_security.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = """
import django
django.setup()
from django.test import Client
response = Client().get("/", HTTP_HOST="localhost")
print("STATUS", response.status_code, "/static/css/" in response.content.decode())
"""


def run(tmp_path, static_root: Path) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "SECURE_SSL_REDIRECT": "false",  # a plain-HTTP test client
        "HUYING_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(static_root),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=240
    )
    return subprocess.run(
        [sys.executable, "-c", PAGE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_pages_render_before_collectstatic(tmp_path):
    result = run(tmp_path, tmp_path / "not-collected")
    assert result.returncode == 0, result.stderr
    assert "STATUS 200 True" in result.stdout, result.stdout + result.stderr
