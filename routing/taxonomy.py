"""Loading the default taxonomy (bureau types, categories, routing rules, regions and bureaus).

The data is ``routing/data/taxonomy.json``. Loading is idempotent: existing rows (matched by
code) are left as administrators edited them; only missing rows are created.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy.json"


def read_taxonomy() -> dict[str, Any]:
    return json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))


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
    if not with_regions:
        return
    for order, item in enumerate(data["regions"]):
        if region_codes is not None and item["code"] not in region_codes:
            continue
        region, _ = models.Region.objects.get_or_create(
            code=item["code"], defaults={"name": item["zh"], "name_en": item["en"], "sort_order": order * 10}
        )
        for bureau_type in types.values():
            en_city = item["en"]
            models.Bureau.objects.get_or_create(
                region=region,
                bureau_type=bureau_type,
                defaults={
                    "name": _bureau_name(item["zh"], bureau_type.name),
                    "name_en": f"{en_city} {bureau_type.name_en}",
                    "contact_phone": "12345",
                },
            )


def _bureau_name(city: str, type_name: str) -> str:
    # 政务服务数据管理局（诉求分拨中心） → 佛山市政务服务数据管理局（诉求分拨中心）
    return f"{city}{type_name}"
