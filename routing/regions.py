"""Finding an appeal's region: by code, division code or name, and in the text itself.

* ``resolve_region`` reads what a caller typed (``foshan``, ``440606``, ``佛山市``, ``Foshan``) and
  returns the region, active or not; ``None`` when nothing matches.
* ``province_region`` is the row an appeal is filed under when its region is unknown: it has no
  bureaus, so such an appeal is triaged (``routing.decisions``).
* ``detect_region`` finds the region named in a company name or an appeal's text ("东莞市长安镇…",
  "佛山市顺德区…"): full city names and their short forms (佛山), full county-level names
  (顺德区). Short district names are left out on purpose: many are everyday words (白云, 光明, 南海).

All of it reads the per-process routing table: no query once the table is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from routing.models import Region
from routing.table import RoutingTable, routing_table

# County-level names too generic to mean one place on their own.
_GENERIC_NAMES = {"城区"}


@dataclass(frozen=True)
class RegionMention:
    """A region named in a piece of text: the most specific one, and where it was found."""

    region: Region
    source: str  # "company" or "text"
    name: str  # the words that named it

    @property
    def city_code(self) -> str:
        table = routing_table()
        city_id = table.city_id(self.region)
        city = _regions_by_id(table).get(city_id)
        return city.code if city is not None else self.region.code


def _regions_by_id(table: RoutingTable) -> dict[int, Region]:
    return {region.pk: region for region in table.all_regions.values()}


@lru_cache(maxsize=4)
def _lookup(generation: int) -> dict[str, Region]:
    table = routing_table()
    index: dict[str, Region] = {}
    for region in sorted(table.all_regions.values(), key=lambda r: (not r.is_active, r.pk)):
        for key in (region.code, region.division_code, region.name, region.name_en):
            if key:
                index.setdefault(key.strip().lower(), region)
    return index


def resolve_region(value: object) -> Region | None:
    """The region a caller meant by a code, GB/T 2260 code, Chinese or English name; active or not."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    return _lookup(routing_table().generation).get(text)


def province_region() -> Region:
    """The province row unknown regions are filed under (created from the data file if missing)."""
    for region in routing_table().all_regions.values():
        if region.level == Region.Level.PROVINCE:
            return region
    from routing.taxonomy import read_regions

    province = read_regions()["province"]
    region, _ = Region.objects.get_or_create(
        code=province["code"],
        defaults={"name": province["zh"], "name_en": province["en"], "level": Region.Level.PROVINCE},
    )
    return region


@lru_cache(maxsize=4)
def _matcher(generation: int) -> tuple[re.Pattern[str] | None, dict[str, Region]]:
    table = routing_table()
    names: dict[str, list[Region]] = {}
    for region in table.all_regions.values():
        if region.level == Region.Level.PROVINCE or region.name in _GENERIC_NAMES:
            continue
        forms = {region.name}
        if region.level == Region.Level.CITY and region.name.endswith("市") and len(region.name) >= 3:
            forms.add(region.name.removesuffix("市"))
        for form in forms:
            names.setdefault(form, []).append(region)
    unique = {name: regions[0] for name, regions in names.items() if len(regions) == 1}
    if not unique:
        return None, {}
    pattern = re.compile("|".join(re.escape(name) for name in sorted(unique, key=len, reverse=True)))
    return pattern, unique


def _mention_in(text: str, source: str) -> RegionMention | None:
    """The one region a text names, or None when it names none or several cities."""
    table = routing_table()
    pattern, names = _matcher(table.generation)
    if pattern is None or not text:
        return None
    found = [(match.group(0), names[match.group(0)]) for match in pattern.finditer(text)]
    if not found:
        return None
    cities = {table.city_id(region) for _name, region in found}
    if len(cities) != 1:
        return None
    districts = {region.pk: (name, region) for name, region in found if region.level == Region.Level.DISTRICT}
    if len(districts) == 1:
        name, region = next(iter(districts.values()))
        return RegionMention(region, source, name)
    # No district, or several of one city: the city is what the text tells.
    city = _regions_by_id(table).get(cities.pop())
    if city is None:
        return None
    name = next((n for n, r in found if r.pk == city.pk), city.name)
    return RegionMention(city, source, name)


def detect_region(*, enterprise_name: str = "", title: str = "", description: str = "") -> RegionMention | None:
    """The region named by the company name (preferred: "东莞市某某公司") or else by the appeal's text."""
    return _mention_in(enterprise_name, "company") or _mention_in(f"{title}\n{description}", "text")


def grouped_region_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Active regions for a <select>: one <optgroup> per city, the whole city first, then its districts.

    A native select with option groups needs no JavaScript and reads well with a keyboard and a
    screen reader (the group label is announced with each option).
    """
    from django.utils.translation import get_language, gettext

    table = routing_table()
    # Built once per routing table (a new table object after every change) and language: the public
    # form asks for it on every GET and POST, and 150 regions' names cost ~1 ms per request.
    if _choices_memo.get("table") is not table:
        _choices_memo.clear()
        _choices_memo["table"] = table
    language = get_language() or ""
    groups = _choices_memo.get(language)
    if groups is None:
        groups = _choices_memo[language] = _grouped_region_choices(table, gettext)
    return groups


_choices_memo: dict[str, Any] = {}


def _grouped_region_choices(table: RoutingTable, gettext: Any) -> list[tuple[str, list[tuple[int, str]]]]:
    active = sorted(table.regions.values(), key=lambda r: (r.sort_order, r.code))
    districts: dict[int, list[Region]] = {}
    for region in active:
        if region.level == Region.Level.DISTRICT and region.parent_id is not None:
            districts.setdefault(region.parent_id, []).append(region)
    groups = []
    for city in active:
        if city.level != Region.Level.CITY:
            continue
        options = [(city.pk, gettext("%(city)s（全市）") % {"city": city.display_name})]
        options += [(district.pk, district.display_name) for district in districts.get(city.pk, [])]
        groups.append((city.display_name, options))
    return groups


def region_by_id(region_id: int) -> Region | None:
    """Any region (active or not) by primary key, from the routing table."""
    return _regions_by_id(routing_table()).get(region_id)
