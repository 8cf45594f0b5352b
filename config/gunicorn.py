"""gunicorn settings for HTTP in production (pages, forms, the API):

    gunicorn -c config/gunicorn.py config.wsgi:application

Websockets (``/ws/``) are served by uvicorn (``config.asgi``); the reverse proxy splits by path.
Measured in docs/benchmarks.md (issue 3): sync workers give the best tail latency, and with
PostgreSQL on the same two cores one worker per core beat two per core (API 319–341 against
280–291 appeals/s, web form 200 against 169). With the database on its own machine each worker
spends longer waiting on it, so more workers may pay: set ``WEB_CONCURRENCY`` and measure with
``bench/submit_http.py``.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "0")) or multiprocessing.cpu_count()
# Sync workers take one request at a time; queued connections wait in the kernel's backlog.
backlog = 2048
timeout = 30
graceful_timeout = 30
