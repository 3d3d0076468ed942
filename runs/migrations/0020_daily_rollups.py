"""Daily rollups.

``runs_dailyrollup`` holds the folded hourly rollups summed per UTC day (its
``hour`` is the day's first); ``runs.query.rollups.compact`` keeps it equal to
them from now on. It is filled here from the rows already folded (ids <= 0);
deltas still waiting are added by the next compaction, as they will be to the
hourly rows. It does not touch ``runs_run``, so SQLite keeps its triggers.
"""

from django.db import migrations, models

KEYS = "project_id, run_type, status, is_root, latency_bucket, model_name"
SUMS = (
    "latency_ms, runs, prompt_tokens, completion_tokens, total_tokens, "
    "prompt_cost, completion_cost, total_cost, unpriced_runs"
)
FOLD = ", ".join(f"sum({column})" for column in SUMS.split(", "))
KEEP = "sum(runs) <> 0 OR sum(total_tokens) <> 0 OR sum(unpriced_runs) <> 0"
DAY = {
    "sqlite": "substr(hour, 1, 10) || ' 00:00:00'",
    "postgresql": "date_trunc('day', hour, 'UTC')",
}


def days_sql(vendor):
    """The daily rows of the folded hourly rows (what compaction keeps equal)."""
    return (
        f"INSERT INTO runs_dailyrollup (hour, {KEYS}, {SUMS}) "
        f"SELECT {DAY[vendor]}, {KEYS}, {FOLD} FROM runs_runrollup WHERE id <= 0 "
        f"GROUP BY 1, {KEYS} HAVING {KEEP}"
    )


def counts():
    """The keys and sums both new models share (``runs.models.RollupCounts``)."""
    return [
        ("project_id", models.UUIDField(blank=True, null=True)),
        ("run_type", models.CharField(max_length=64)),
        ("status", models.CharField(max_length=16)),
        ("is_root", models.BooleanField()),
        ("latency_bucket", models.SmallIntegerField(blank=True, null=True)),
        ("latency_ms", models.FloatField(default=0)),
        (
            "model_name",
            models.CharField(blank=True, default="", max_length=255),
        ),
        ("runs", models.BigIntegerField(default=0)),
        ("prompt_tokens", models.BigIntegerField(default=0)),
        ("completion_tokens", models.BigIntegerField(default=0)),
        ("total_tokens", models.BigIntegerField(default=0)),
        ("prompt_cost", models.FloatField(default=0)),
        ("completion_cost", models.FloatField(default=0)),
        ("total_cost", models.FloatField(default=0)),
        ("unpriced_runs", models.BigIntegerField(default=0)),
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in DAY:
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(days_sql(vendor))


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0019_experiments"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                *counts(),
                ("hour", models.DateTimeField()),
            ],
            options={
                "indexes": [models.Index(fields=["hour"], name="daily_rollup_hour")],
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
