"""Cumulative binary duration histograms on DailyScorecard, and the MonthlyScorecard rollup.

The JSON histograms ``{"minutes": count}`` are converted in place (and back on reverse); the
monthly rows are then built from the daily ones, so no ``rebuild_rollups`` is needed after
migrating.
"""

import json
from collections import defaultdict
from datetime import timedelta

from django.db import migrations, models

from analytics import histograms

SUMS = (
    "dispatched",
    "signed_on_time",
    "responded",
    "overdue",
    "returns",
    "rehandles",
    "ratings",
    "resolved",
    "satisfied",
    "basic",
)


def _rewrite(apps, schema_editor, source: tuple[str, str], target: tuple[str, str], convert) -> None:
    """Set the ``target`` histogram columns from the ``source`` ones, row by row (executemany:
    ``bulk_update``'s CASE expressions took minutes for a million appeals' worth of rows)."""
    DailyScorecard = apps.get_model("analytics", "DailyScorecard")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    # Quoted identifiers from the model; the values are parameters.
    table, first, second, key = (quote(name) for name in (DailyScorecard._meta.db_table, *target, "id"))
    sql = f"UPDATE {table} SET {first} = %s, {second} = %s WHERE {key} = %s"  # noqa: S608
    rows = DailyScorecard.objects.order_by("pk").values_list("pk", *source)
    with connection.cursor() as cursor:
        batch = []
        for pk, first, second in rows.iterator(chunk_size=2000):
            batch.append((convert(first), convert(second), pk))
            if len(batch) >= 2000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def pack_histograms(apps, schema_editor):
    _rewrite(
        apps, schema_editor, ("sign_minutes", "reply_minutes"), ("sign_packed", "reply_packed"),
        lambda histogram: histograms.pack(histogram or {}),
    )  # fmt: skip


def unpack_histograms(apps, schema_editor):
    _rewrite(
        apps, schema_editor, ("sign_packed", "reply_packed"), ("sign_minutes", "reply_minutes"),
        lambda data: json.dumps({str(k): n for k, n in histograms.unpack(data).items()}),
    )  # fmt: skip


def build_months(apps, schema_editor):
    DailyScorecard = apps.get_model("analytics", "DailyScorecard")
    MonthlyScorecard = apps.get_model("analytics", "MonthlyScorecard")
    months = sorted({day.replace(day=1) for day in DailyScorecard.objects.values_list("day", flat=True).distinct()})
    for month in months:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        cells = defaultdict(lambda: {"sums": dict.fromkeys(SUMS, 0), "sign": [], "reply": []})
        for row in DailyScorecard.objects.filter(day__gte=month, day__lt=following).iterator(chunk_size=2000):
            cell = cells[(row.bureau_id, row.region_id)]
            for name in SUMS:
                cell["sums"][name] += getattr(row, name)
            cell["sign"].append(row.sign_minutes)
            cell["reply"].append(row.reply_minutes)
        MonthlyScorecard.objects.bulk_create(
            [
                MonthlyScorecard(
                    month=month,
                    bureau_id=bureau_id,
                    region_id=region_id,
                    sign_minutes=histograms.merge(cell["sign"]),
                    reply_minutes=histograms.merge(cell["reply"]),
                    **cell["sums"],
                )
                for (bureau_id, region_id), cell in cells.items()
            ],
            batch_size=1000,
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [
        migrations.AddField(model_name="dailyscorecard", name="sign_packed", field=models.BinaryField(default=bytes)),
        migrations.AddField(model_name="dailyscorecard", name="reply_packed", field=models.BinaryField(default=bytes)),
        migrations.RunPython(pack_histograms, unpack_histograms),
        migrations.RemoveField(model_name="dailyscorecard", name="sign_minutes"),
        migrations.RemoveField(model_name="dailyscorecard", name="reply_minutes"),
        migrations.RenameField(model_name="dailyscorecard", old_name="sign_packed", new_name="sign_minutes"),
        migrations.RenameField(model_name="dailyscorecard", old_name="reply_packed", new_name="reply_minutes"),
        migrations.CreateModel(
            name="MonthlyScorecard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bureau_id", models.BigIntegerField()),
                ("region_id", models.BigIntegerField()),
                ("dispatched", models.IntegerField(default=0)),
                ("signed_on_time", models.IntegerField(default=0)),
                ("responded", models.IntegerField(default=0)),
                ("overdue", models.IntegerField(default=0)),
                ("returns", models.IntegerField(default=0)),
                ("rehandles", models.IntegerField(default=0)),
                ("ratings", models.IntegerField(default=0)),
                ("resolved", models.IntegerField(default=0)),
                ("satisfied", models.IntegerField(default=0)),
                ("basic", models.IntegerField(default=0)),
                ("sign_minutes", models.BinaryField(default=bytes)),
                ("reply_minutes", models.BinaryField(default=bytes)),
                ("month", models.DateField()),
            ],
            options={
                "indexes": [models.Index(fields=["month", "bureau_id"], name="scorecard_month_bureau")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "bureau_id", "region_id"), name="monthly_scorecard_cell_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(build_months, migrations.RunPython.noop),
    ]
