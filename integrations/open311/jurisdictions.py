"""``jurisdiction_id``: the whole deployment, or one of its regions (a city with its districts, or a district).

The endpoint answers for the deployment's root jurisdiction (``OPEN311_JURISDICTION_ID``, default
``huying``); a region's code narrows listings and is the filing region when nothing more specific
is given. An unknown id is the specification's 404.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from integrations.open311.formats import Open311Error
from routing.decisions import routing_table
from routing.models import Region


def root_id() -> str:
    return str(getattr(settings, "OPEN311_JURISDICTION_ID", "huying"))


def region_by_code(code: str) -> Region | None:
    return routing_table().regions.get(code)


def resolve(jurisdiction_id: str) -> Region | None:
    """None for the whole deployment (no id or the root id), the region for a region code; else 404."""
    if not jurisdiction_id or jurisdiction_id == root_id():
        return None
    region = region_by_code(jurisdiction_id)
    if region is None:
        raise Open311Error(404, _("jurisdiction_id “%(id)s” 不存在。") % {"id": jurisdiction_id})
    return region


def within(region: Region, scope: Region) -> bool:
    return region.pk == scope.pk or region.parent_id == scope.pk


def subtree_ids(scope: Region) -> list[int]:
    """The region and its districts."""
    return [r.pk for r in routing_table().regions.values() if within(r, scope)]


def region_in_address(address: str, *, scope: Region | None) -> Region | None:
    """The most specific active region whose name appears in ``address`` (district before city)."""
    if not address:
        return None
    best: Region | None = None
    for region in routing_table().regions.values():
        if scope is not None and not within(region, scope):
            continue
        names = [n for n in (region.name, region.name_en) if n]
        if not any(name in address for name in names):
            continue
        if (
            best is None
            or (region.level == Region.Level.DISTRICT and best.level != Region.Level.DISTRICT)
            or (region.level == best.level and len(region.name) > len(best.name))
        ):
            best = region
    return best
