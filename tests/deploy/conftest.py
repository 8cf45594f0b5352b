"""The deployed stack (nginx + gunicorn + uvicorn) for the tests under tests/deploy/.

Those tests run in CI's PostgreSQL+Redis pass (``make test-services``): gunicorn and uvicorn are two
processes, so the live console needs the Redis channel layer between them. Each xdist worker that
runs one of them starts its own stack, on ports of its own (tests/deploy/stack.py).
"""

from __future__ import annotations

import os

import pytest

from tests.deploy import stack as deployed


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
