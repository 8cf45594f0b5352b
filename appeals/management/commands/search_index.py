"""``manage.py search_index``: rebuild the appeal search index with no downtime, or catch it up."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from appeals import search


class Command(BaseCommand):
    help = "Rebuild the appeal search index behind its alias (--rebuild) or re-index recent changes (--catch-up)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild", action="store_true", help="Load every appeal into a new index, then swap the alias to it."
        )
        parser.add_argument(
            "--catch-up",
            type=float,
            metavar="HOURS",
            help="Re-index appeals changed in the last HOURS that the index lacks or holds older.",
        )

    def handle(self, *args, **options):
        backend = search.get_backend()
        if not options["rebuild"] and options["catch_up"] is None:
            raise CommandError("Nothing to do: pass --rebuild or --catch-up HOURS.")
        if backend.name == "database":
            count = backend.rebuild()
            self.stdout.write(f"Search backend: database (no index to build); {count} appeals searchable.")
            return
        started = time.monotonic()
        try:
            if options["rebuild"]:
                count = backend.rebuild()
                verb = "indexed"
            else:
                count = backend.catch_up(since=timezone.now() - timedelta(hours=options["catch_up"]))
                verb = "re-indexed"
        except search.TRANSIENT_ERRORS as exc:
            raise CommandError(f"The search server is unreachable ({exc}); nothing was changed.") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(f"Search backend: {backend.name}; {verb} {count} appeals in {elapsed:.1f} s.")
