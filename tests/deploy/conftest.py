"""The deployed stack (nginx + gunicorn + uvicorn) for the tests under tests/deploy/.

Those tests run in CI's PostgreSQL+Redis pass (``make test-services``): gunicorn and uvicorn are two
processes, so the live console needs the Redis channel layer between them. They are kept on one xdist
worker (``xdist_group``) so one stack serves them all.
"""

from __future__ import annotations

import os

import pytest

from tests.deploy import stack as deployed


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("nginx"):
            item.add_marker(pytest.mark.xdist_group("nginx-stack"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory, worker_id):
    if deployed.NGINX is None:
        pytest.skip("nginx is not installed (Debian package 'nginx'; `make deploy-tools` installs it).")
    if not os.environ.get("REDIS_URL"):
        pytest.skip(
            "The tests through nginx run in CI's PostgreSQL+Redis pass (make test-services): gunicorn and "
            "uvicorn share the channel layer and rate-limit counters through Redis. Set REDIS_URL."
        )
    running = deployed.start(tmp_path_factory.mktemp("stack"), worker_id, PORTAL_RATE_LOOKUP_IP="3/m")
    yield running
    deployed.stop(running)
