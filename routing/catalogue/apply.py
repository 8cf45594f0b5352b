"""Applying a checked catalogue: all of it in one transaction, or nothing.

The upload is checked again inside the transaction (the database may have changed since the
preview), and any error aborts before a row is written. Rows left out of a sheet are deactivated
(``is_active = False``), never deleted, so appeals and history that point at them stay intact.
Every saved row gets a history record with the importing user and the reason
``catalogue import <file name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from routing.catalogue.checks import CheckedCatalogue, Key, RowError, check_catalogue, snapshot
from routing.catalogue.reader import RawCatalogue
from routing.catalogue.specs import SHEETS, SheetSpec
from routing.table import clear_routing_table

_LEVEL_ORDER = {"province": 0, "city": 1, "district": 2}


class CatalogueRejected(Exception):
    """The catalogue has errors; nothing was changed."""

    def __init__(self, checked: CheckedCatalogue):
        super().__init__(f"{len(checked.errors)} error(s)")
        self.checked = checked
        self.errors = checked.errors


@dataclass
class ApplyResult:
    added: int
    changed: int
    removed: int
    checked: CheckedCatalogue


def catalogue_apply(*, raw: RawCatalogue, user: Any, filename: str) -> ApplyResult:
    """Write an uploaded catalogue to the routing configuration.

    Checks it again inside one transaction; raises ``CatalogueRejected`` (nothing changed) when it
    has errors. Records history for every row written (``user``, reason ``catalogue import <filename>``)
    and reloads the routing table in every process after the commit.
    """
    reason = f"catalogue import {filename}"[:100]
    with transaction.atomic():
        checked = check_catalogue(raw)
        if not checked.ok:
            raise CatalogueRejected(checked)
        objects: dict[str, dict[Key, Any]] = {
            spec.key: {k: obj for k, (obj, _v) in snapshot(spec).items()} for spec in SHEETS
        }
        try:
            for sheet in checked.preview.sheets:
                if not sheet.present:
                    continue
                spec = sheet.spec
                rows = {row.key: row for row in checked.rows[spec.key]}
                writes = [c.key for c in sheet.added + sheet.changed]
                if spec.key == "regions":
                    writes.sort(key=lambda k: _LEVEL_ORDER.get(rows[k].values.get("level", ""), 9))
                deferred: list[tuple[Any, str]] = []
                for key in writes:
                    obj = objects[spec.key].get(key) or spec.model()
                    _assign(spec, obj, rows[key].values, objects, deferred)
                    _save(obj, user, reason)
                    objects[spec.key][key] = obj
                for obj, parent in deferred:  # a region whose parent came later in the sheet
                    obj.parent = objects["regions"][(parent,)]
                    _save(obj, user, reason)
                for change in sheet.removed:
                    obj = objects[spec.key][change.key]
                    obj.is_active = False
                    _save(obj, user, reason)
        except IntegrityError as exc:
            checked.errors.append(
                RowError("", None, "", _("数据库拒绝了这次导入，未做任何修改：%(error)s") % {"error": exc})
            )
            transaction.set_rollback(True)
            raise CatalogueRejected(checked) from exc
        clear_routing_table()
    counts = checked.preview.counts()
    return ApplyResult(counts["added"], counts["changed"], counts["removed"], checked)


def _assign(
    spec: SheetSpec, obj: Any, values: dict[str, Any], objects: dict[str, dict[Key, Any]], deferred: list
) -> None:
    for column in spec.columns:
        if column.field not in values:
            continue
        value = values[column.field]
        target = column.parser.reference
        if not target:
            setattr(obj, column.field, value)
            continue
        if not value:
            setattr(obj, column.field, None)
            continue
        related = objects[target].get((value,))
        if related is None or related.pk is None:
            deferred.append((obj, value))
            setattr(obj, column.field, None)
        else:
            setattr(obj, column.field, related)


def _save(obj: Any, user: Any, reason: str) -> None:
    obj._history_user = user if getattr(user, "pk", None) else None
    obj._change_reason = reason
    obj.save()
