"""``manage.py search_index --rebuild``: re-create the appeal search index from the database."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from appeals import search


class Command(BaseCommand):
    help = "Rebuild the appeal search index (Elasticsearch when ELASTICSEARCH_URL is set)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Drop the index and index every appeal again.")

    def handle(self, *args, **options):
        backend = search.get_backend()
        if not options["rebuild"]:
            raise CommandError("Nothing to do: pass --rebuild to re-create the index.")
        started = time.monotonic()
        count = backend.rebuild()
        elapsed = time.monotonic() - started
        if backend.name == "database":
            self.stdout.write(f"Search backend: database (no index to build); {count} appeals searchable.")
        else:
            self.stdout.write(f"Search backend: {backend.name}; indexed {count} appeals in {elapsed:.1f} s.")
