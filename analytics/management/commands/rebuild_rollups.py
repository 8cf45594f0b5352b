"""Recompute every analytics fact and rollup table from appeals and their audit events."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from analytics import rollups
from appeals.models import Appeal


class Command(BaseCommand):
    help = "Truncate and rebuild the analytics rollup tables from appeals and their audit events (progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000, help="Appeals per batch (default 2000).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        total = Appeal.objects.count()
        with tqdm(total=total, unit="appeal", disable=options["no_progress"], desc="rollups") as bar:
            done = rollups.rebuild_all(chunk=options["chunk"], progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt rollups from {done} appeals."))
