"""Load the default bureau types, categories and routing rules (not regions: those are local)."""

from types import SimpleNamespace

from django.db import migrations


def load(apps, schema_editor):
    from routing.taxonomy import load_taxonomy

    models = SimpleNamespace(
        BureauType=apps.get_model("routing", "BureauType"),
        Category=apps.get_model("routing", "Category"),
        RoutingRule=apps.get_model("routing", "RoutingRule"),
        Region=apps.get_model("routing", "Region"),
        Bureau=apps.get_model("routing", "Bureau"),
    )
    load_taxonomy(models=models, with_regions=False)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    # Reversing leaves the rows: administrators may have edited them since.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
