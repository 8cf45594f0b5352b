"""Two catch-all deadline policies (ordinary, urgent) with the defaults from DOMAIN.md, so
administrators see and edit the limits in the admin instead of hunting for them in code."""

from django.db import migrations

DEFAULTS = [
    {
        "urgency": "normal",
        "sign_for_value": 1,
        "sign_for_unit": "working_days",
        "reply_value": 5,
        "reply_unit": "working_days",
        "note": "一般诉求：1个工作日内签收，5个工作日内答复（DOMAIN.md 默认值）",
    },
    {
        "urgency": "urgent",
        "sign_for_value": 2,
        "sign_for_unit": "working_hours",
        "reply_value": 2,
        "reply_unit": "natural_days",
        "note": "紧急诉求：2个工作小时内签收，2日内答复（DOMAIN.md 默认值）",
    },
]


def create(apps, schema_editor):
    DeadlinePolicy = apps.get_model("routing", "DeadlinePolicy")
    for values in DEFAULTS:
        if not DeadlinePolicy.objects.filter(category__isnull=True, urgency=values["urgency"]).exists():
            DeadlinePolicy.objects.create(
                category=None,
                return_value=1,
                return_unit="working_days",
                first_contact_value=24,
                first_contact_unit="natural_hours",
                max_extensions=3,
                max_extension_working_days=5,
                rehandle_value=15,
                rehandle_unit="working_days",
                **values,
            )


def remove(apps, schema_editor):
    DeadlinePolicy = apps.get_model("routing", "DeadlinePolicy")
    for values in DEFAULTS:
        DeadlinePolicy.objects.filter(category__isnull=True, urgency=values["urgency"], note=values["note"]).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0003_routing_policies_classifier")]

    operations = [migrations.RunPython(create, remove)]
