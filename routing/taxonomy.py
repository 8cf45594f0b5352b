"""Loading the default taxonomy (bureau types, categories, routing rules, regions and bureaus).

The data is ``routing/data/taxonomy.json`` (bureau types, categories) and
``routing/data/guangdong_regions.json`` (the province's 21 prefecture-level cities and 122
county-level divisions with their GB/T 2260 codes; see ``make_guangdong_regions.py`` beside it).
Every city gets one bureau of every type, the dispatch centre included; districts have no bureaus
of their own by default and resolve to their city's (``RoutingTable.bureau_for``).

Loading is idempotent: existing rows (matched by code) are left as administrators edited them;
only missing rows are created (and a missing division code filled in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy.json"
REGIONS_FILE = Path(__file__).resolve().parent / "data" / "guangdong_regions.json"


def read_regions() -> dict[str, Any]:
    """The province file: ``{"province": …, "cities": [{code, division_code, zh, en, districts: […]}]}``."""
    return json.loads(REGIONS_FILE.read_text(encoding="utf-8"))


def read_taxonomy() -> dict[str, Any]:
    """taxonomy.json plus ``regions``: the province's cities (code, zh, en) in division-code order."""
    data = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    data["regions"] = [
        {"code": city["code"], "zh": city["zh"], "en": city["en"], "division_code": city["division_code"]}
        for city in read_regions()["cities"]
    ]
    return data


def load_taxonomy(*, models: Any = None, with_regions: bool = True, region_codes: list[str] | None = None) -> None:
    """Create missing bureau types, categories, default rules and (optionally) regions with bureaus.

    ``models`` is an object with the model classes as attributes (the historical models inside a
    data migration); by default the current ones.
    """
    if models is None:
        from routing import models as current

        models = current
    data = read_taxonomy()
    types = {}
    for item in data["bureaus"]:
        types[item["code"]], _ = models.BureauType.objects.get_or_create(
            code=item["code"],
            defaults={"name": item["zh"], "name_en": item["en"], "duty": item.get("role", "")},
        )
    for order, item in enumerate(data["categories"]):
        category, created = models.Category.objects.get_or_create(
            code=item["code"],
            defaults={
                "name": item["zh"],
                "name_en": item["en"],
                "example": item.get("example", ""),
                "example_en": item.get("example_en", ""),
                "default_bureau_type": types[item["bureau"]],
                "is_other": item["code"] == "other",
                "sort_order": order * 10,
            },
        )
        if created and item["bureau"] != "dispatch":
            models.RoutingRule.objects.get_or_create(
                name=f"{item['zh']} → {types[item['bureau']].name}",
                defaults={"category": category, "target_type": types[item["bureau"]], "priority": 100},
            )
    if with_regions:
        load_regions(models=models, city_codes=region_codes, bureau_types=list(types.values()))


def load_regions(
    *, models: Any = None, city_codes: list[str] | None = None, bureau_types: list[Any] | None = None
) -> None:
    """Create the province's missing cities (all, or those in ``city_codes``), their districts and bureaus.

    Rows are created in bulk (a whole province is about 140 regions and 230 bureaus), so a fresh
    ``migrate`` stays fast; existing rows keep their edits.
    """
    if models is None:
        from routing import models as current

        models = current
    if bureau_types is None:
        bureau_types = list(models.BureauType.objects.all())
    data = read_regions()
    province = data["province"]
    if not models.Region.objects.filter(code=province["code"]).exists():
        models.Region.objects.create(
            code=province["code"],
            division_code=province["division_code"]
            if not models.Region.objects.filter(division_code=province["division_code"]).exists()
            else None,
            name=province["zh"],
            name_en=province["en"],
            level="province",
            sort_order=0,
        )
    cities = [c for c in data["cities"] if city_codes is None or c["code"] in city_codes]
    wanted = [c["code"] for c in cities] + [d["code"] for c in cities for d in c["districts"]]
    existing = {r.code: r for r in models.Region.objects.filter(code__in=wanted)}
    taken_division_codes = set(
        models.Region.objects.exclude(division_code=None).values_list("division_code", flat=True)
    )

    def fill_division_code(region: Any, division_code: str) -> None:
        if not region.division_code and division_code not in taken_division_codes:
            region.division_code = division_code
            region.save(update_fields=["division_code"])
            taken_division_codes.add(division_code)

    province_order = {c["code"]: index + 1 for index, c in enumerate(data["cities"])}
    new_cities = []
    for item in cities:
        region = existing.get(item["code"])
        if region is None:
            new_cities.append(
                models.Region(
                    code=item["code"],
                    division_code=item["division_code"] if item["division_code"] not in taken_division_codes else None,
                    name=item["zh"],
                    name_en=item["en"],
                    level="city",
                    sort_order=province_order[item["code"]] * 100,
                )
            )
        else:
            fill_division_code(region, item["division_code"])
    models.Region.objects.bulk_create(new_cities)
    city_rows = {r.code: r for r in models.Region.objects.filter(code__in=[c["code"] for c in cities])}
    new_districts = []
    for item in cities:
        city = city_rows[item["code"]]
        for index, district in enumerate(item["districts"], 1):
            region = existing.get(district["code"])
            if region is None:
                division_code = district["division_code"]
                new_districts.append(
                    models.Region(
                        code=district["code"],
                        division_code=division_code if division_code not in taken_division_codes else None,
                        name=district["zh"],
                        name_en=district["en"],
                        level="district",
                        parent=city,
                        sort_order=city.sort_order + index,
                    )
                )
            else:
                fill_division_code(region, district["division_code"])
    models.Region.objects.bulk_create(new_districts)
    have = set(models.Bureau.objects.filter(region__in=city_rows.values()).values_list("region_id", "bureau_type_id"))
    new_bureaus = []
    for item in cities:
        city = city_rows[item["code"]]
        for bureau_type in bureau_types:
            if (city.pk, bureau_type.pk) in have:
                continue
            new_bureaus.append(
                models.Bureau(
                    region=city,
                    bureau_type=bureau_type,
                    name=_bureau_name(city.name, bureau_type.name),
                    name_en=f"{city.name_en} {bureau_type.name_en}",
                    contact_phone="12345",
                )
            )
    models.Bureau.objects.bulk_create(new_bureaus)
    if models.__name__ == "routing.models":
        # bulk_create sends no post_save: reload the routing table here and in other processes.
        from routing.table import clear_routing_table

        clear_routing_table()


def _bureau_name(city: str, type_name: str) -> str:
    # 政务服务数据管理局（诉求分拨中心） → 佛山市政务服务数据管理局（诉求分拨中心）
    return f"{city}{type_name}"
