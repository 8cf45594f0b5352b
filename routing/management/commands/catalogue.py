"""``manage.py catalogue export PATH [--format xlsx|csv]`` and ``manage.py catalogue import PATH [--dry-run]``.

Export writes the whole routing configuration as an .xlsx workbook, or (``--format csv``) as a zip
with one CSV file per sheet. Import reads an .xlsx, such a zip, one CSV file or a directory of CSV
files, prints the preview (added / changed / deactivated rows) and every error with its sheet and
row, and applies everything in one transaction unless ``--dry-run`` is given or there are errors.
Exit status: 0 applied (or nothing to do, or a clean dry run), 1 errors (nothing changed).
The template is documented in docs/catalogue.md.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from routing.catalogue.apply import CatalogueRejected, catalogue_apply
from routing.catalogue.checks import CheckedCatalogue, check_catalogue
from routing.catalogue.export import export_csv_zip, export_xlsx
from routing.catalogue.reader import UploadError, read_catalogue


def _directory_as_zip(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(path.glob("*.csv")):
            archive.write(file, file.name)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Export or import the dispatch catalogue (regions, bureaus, categories, rules, deadline policies)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the catalogue to PATH")
        export.add_argument("path")
        export.add_argument("--format", choices=["xlsx", "csv"], default=None, help="default: from PATH's suffix")
        imp = sub.add_parser("import", help="check, preview and apply PATH")
        imp.add_argument("path")
        imp.add_argument("--dry-run", action="store_true", help="only print the preview and the errors")
        imp.add_argument("--user", default="", help="username recorded in the history (default: none)")

    def handle(self, *args: Any, action: str, path: str, **options: Any) -> None:
        if action == "export":
            self._export(Path(path), options.get("format"))
        else:
            self._import(Path(path), dry_run=options["dry_run"], username=options["user"])

    def _export(self, path: Path, fmt: str | None) -> None:
        fmt = fmt or ("csv" if path.suffix.lower() in {".zip", ".csv"} else "xlsx")
        data = export_csv_zip() if fmt == "csv" else export_xlsx()
        path.write_bytes(data)
        self.stdout.write(f"Wrote {path} ({fmt}, {len(data)} bytes)")

    def _import(self, path: Path, *, dry_run: bool, username: str) -> None:
        try:
            data = _directory_as_zip(path) if path.is_dir() else path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named {username!r}.")
        try:
            raw = read_catalogue(data)
        except UploadError as exc:
            raise CommandError(str(exc)) from exc
        checked = check_catalogue(raw)
        self._print(checked)
        if not checked.ok:
            raise CommandError(f"{len(checked.errors)} error(s): nothing was changed.")
        if dry_run or not checked.preview.has_changes:
            self.stdout.write("Dry run: nothing was changed." if dry_run else "Nothing to change.")
            return
        try:
            result = catalogue_apply(raw=raw, user=user, filename=path.name)
        except CatalogueRejected as exc:
            self._print(exc.checked)
            raise CommandError(f"{len(exc.errors)} error(s): nothing was changed.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Applied: {result.added} added, {result.changed} changed, {result.removed} deactivated."
            )
        )

    def _print(self, checked: CheckedCatalogue) -> None:
        out = self.stdout
        for sheet in checked.preview.sheets:
            if not sheet.present:
                out.write(f"{sheet.spec.title}: not in the file, unchanged")
                continue
            out.write(
                f"{sheet.spec.title}: {len(sheet.added)} added, {len(sheet.changed)} changed, "
                f"{len(sheet.removed)} deactivated, {sheet.unchanged} unchanged"
            )
            for change in sheet.added:
                out.write(f"  + [row {change.row}] {change.label}")
            for change in sheet.changed:
                fields = "; ".join(f"{c.column.label}: {c.before or '—'} → {c.after or '—'}" for c in change.changes)
                out.write(f"  ~ [row {change.row}] {change.label}: {fields}")
            for change in sheet.removed:
                out.write(f"  - {change.label} (deactivated, not deleted)")
        for error in checked.errors:
            self.stderr.write(f"ERROR {error}")
