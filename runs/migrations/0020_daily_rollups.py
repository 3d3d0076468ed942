"""Daily rollups, and one view over the hourly and daily rows.

* ``runs_dailyrollup`` holds the folded hourly rollups summed per UTC day;
  ``runs.query.rollups.compact`` keeps it equal to them from now on. It is
  filled here from the rows already folded (ids <= 0); deltas still waiting
  are added by the next compaction, as they will be to the hourly rows.
* ``runs_rollupspan`` is a view: hourly rows as they are, daily rows with the
  day's start as ``hour``, ``is_day`` true and id 0. Reading both through it
  in one statement sees one snapshot, even while a compaction commits.

Neither touches ``runs_run``, so SQLite keeps its triggers.
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
FLAGS = {"sqlite": ("0", "1"), "postgresql": ("false", "true")}


def view_sql(vendor):
    hourly, daily = FLAGS[vendor]
    return (
        "CREATE VIEW runs_rollupspan AS "
        f"SELECT id, {hourly} AS is_day, hour, {KEYS}, {SUMS} FROM runs_runrollup "
        "UNION ALL "
        f"SELECT 0, {daily}, day, {KEYS}, {SUMS} FROM runs_dailyrollup"
    )


def days_sql(vendor):
    """The daily rows of the folded hourly rows (what compaction keeps equal)."""
    return (
        f"INSERT INTO runs_dailyrollup (day, {KEYS}, {SUMS}) "
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
        cursor.execute(view_sql(vendor))
        cursor.execute(days_sql(vendor))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor in DAY:
        schema_editor.execute("DROP VIEW IF EXISTS runs_rollupspan")


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0019_experiments"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupSpan",
            fields=[
                *counts(),
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("hour", models.DateTimeField()),
                ("is_day", models.BooleanField()),
            ],
            options={
                "db_table": "runs_rollupspan",
                "managed": False,
            },
        ),
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
                ("day", models.DateTimeField()),
            ],
            options={
                "indexes": [models.Index(fields=["day"], name="daily_rollup_day")],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
