"""Webhook benchmark: fan-out from the outbox and delivery to a real receiver after an outage.

    .venv/bin/python bench/webhooks_outage.py [--events 2000] [--appeals 100] [--port 18860]

On a throw-away test database (SQLite in memory by default; PostgreSQL when DATABASE_URL says so):

1. ``--events`` urge events spread over ``--appeals`` appeals are written to the outbox, each in its
   own transaction (as the deadline sweep writes them);
2. the notification re-dispatch expands them — this is where webhook deliveries are fanned out;
3. with the receiver down, one sending run (how much an outage costs per run);
4. the receiver (an HTTP server in this process that verifies every signature) comes up and the
   queue is drained by one sending process: deliveries per second, and a check that every event
   arrived once and in order per appeal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("NOTIFY_KICK_DELIVERY", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--appeals", type=int, default=100)
    parser.add_argument("--port", type=int, default=18860)
    args = parser.parse_args()

    settings.NOTIFY_REDISPATCH_AFTER_SECONDS = 0
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 1000
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:

    from integrations.models import WebhookDelivery, WebhookEndpoint
    from integrations.webhooks import sender, signing
    from notifications import outbox
    from notifications.models import OutboxEvent
    from notifications.tasks import redispatch
    from tests import factories

    city = factories.RegionFactory(code="foshan", name="佛山市")
    hrss = factories.BureauFactory(region=city, bureau_type=factories.bureau_type("hrss"))
    secret = WebhookEndpoint.new_secret()
    url = f"http://127.0.0.1:{args.port}/hook"
    WebhookEndpoint.objects.create(bureau=hrss, url=url, secret=secret)
    appeals = [factories.submit(region=city).appeal for _ in range(args.appeals)]
    OutboxEvent.objects.update(processed_at=timezone.now())
    print(f"database: {connection.vendor}; {args.events} events over {args.appeals} appeals")

    started = time.perf_counter()
    for n in range(args.events):
        with transaction.atomic():
            outbox.emit("deadline.urged", appeal=appeals[n % len(appeals)], payload={"n": n})
    emitted = time.perf_counter() - started
    print(f"1. outbox rows written:        {args.events / emitted:8.0f} events/s")

    started = time.perf_counter()
    while OutboxEvent.objects.filter(processed_at__isnull=True).exists():
        redispatch(batch=1000)
    expanded = time.perf_counter() - started
    assert WebhookDelivery.objects.count() == args.events
    print(f"2. expanded + fanned out:      {args.events / expanded:8.0f} events/s")

    started = time.perf_counter()
    sender.deliver_due(limit=args.events)
    down_run = time.perf_counter() - started
    print(f"3. one run, receiver down:     {down_run * 1000:8.1f} ms (one connection attempt)")

    received: list[dict] = []
    bad = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not signing.verify(
                secret=secret,
                body=body,
                timestamp=self.headers[signing.TIMESTAMP_HEADER],
                signature_header=self.headers[signing.SIGNATURE_HEADER],
            ):
                bad.append(body)
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.perf_counter()
    runs = 0
    while WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists():
        sender.deliver_due(limit=args.events)
        runs += 1
    drained = time.perf_counter() - started
    server.shutdown()
    ids = [r["id"] for r in received]
    per_appeal: dict[int, list[int]] = {}
    for r in received:
        per_appeal.setdefault(r["appeal"]["id"], []).append(r["sequence"])
    in_order = all(seq == sorted(seq) for seq in per_appeal.values())
    print(
        f"4. drained after the outage:   {args.events / drained:8.0f} deliveries/s "
        f"({drained:.1f} s, {runs} runs, one process)"
    )
    print(f"   received {len(ids)}, unique {len(set(ids))}, bad signatures {len(bad)}, in order per appeal: {in_order}")


if __name__ == "__main__":
    main()
