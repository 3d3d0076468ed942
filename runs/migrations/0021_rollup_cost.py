"""Cost in the trace, thread and user rollups.

Each rollup table gains ``priced_runs`` and ``total_cost`` (null while no
run beneath is priced, as a root's ``trace_cost``), added with plain SQL
(no table rebuild). The triggers of 0017/0018 are dropped, the new columns
filled by one set-based statement per table (``backfill_cost``), and the
triggers re-created from ``runs.rollup_triggers`` with the cost terms.
On PostgreSQL dropping the triggers locks runs_run until the commit, so no
write slips between the drop and the re-creation.
"""

from importlib import import_module

from django.db import migrations, models

from runs import rollup_triggers

threads = import_module("runs.migrations.0017_thread_rollups")
users = import_module("runs.migrations.0018_user_rollups")

TABLES = ("runs_tracerollup", "runs_threadrollup", "runs_userrollup")
MODELS = ("tracerollup", "threadrollup", "userrollup")


def add_columns(real):
    return [
        statement
        for table in TABLES
        for statement in (
            f"ALTER TABLE {table} ADD COLUMN priced_runs integer NOT NULL DEFAULT 0",
            f"ALTER TABLE {table} ADD COLUMN total_cost {real} NULL",
        )
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    real = "double precision" if vendor == "postgresql" else "real"
    threads._execute(
        schema_editor,
        [
            *rollup_triggers.drops(vendor),
            *add_columns(real),
            *rollup_triggers.backfill_cost(vendor),
            *rollup_triggers.triggers(vendor),
        ],
    )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    old = threads.sqlite_forward() if vendor == "sqlite" else threads.pg_forward()
    threads._execute(
        schema_editor,
        [
            *rollup_triggers.drops(vendor),
            *(
                f"ALTER TABLE {table} DROP COLUMN {column}"
                for table in TABLES
                for column in ("priced_runs", "total_cost")
            ),
            *old,
            *users.user_triggers(vendor),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("runs", "0020_daily_rollups")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                operation
                for model in MODELS
                for operation in (
                    migrations.AddField(
                        model_name=model,
                        name="priced_runs",
                        field=models.IntegerField(default=0),
                    ),
                    migrations.AddField(
                        model_name=model,
                        name="total_cost",
                        field=models.FloatField(blank=True, null=True),
                    ),
                )
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
