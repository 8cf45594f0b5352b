"""Load the whole of Guangdong: 21 cities, their county-level divisions and every city's bureaus.

Idempotent (existing regions and bureaus keep their edits; a missing division code is filled in),
so it also completes a database that was seeded with a few demo cities.
"""

from types import SimpleNamespace

from django.db import migrations


def load(apps, schema_editor):
    from routing.taxonomy import load_regions

    models = SimpleNamespace(
        __name__="migration",
        BureauType=apps.get_model("routing", "BureauType"),
        Region=apps.get_model("routing", "Region"),
        Bureau=apps.get_model("routing", "Bureau"),
    )
    load_regions(models=models)


class Migration(migrations.Migration):
    dependencies = [("routing", "0006_region_division_code")]

    # Reversing leaves the rows: appeals and staff may refer to them by now.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
