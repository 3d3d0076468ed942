"""User rollups: one runs_userrollup row per (project, root ``user_id``).

Kept by triggers on runs_tracerollup exactly as migration 0017_thread_rollups
keeps threads: the same statements, grouped by ``user_id`` instead of
``thread_id`` (a trace counts once, whether or not it is in a thread).
"""

from importlib import import_module

from django.db import migrations, models

threads = import_module("runs.migrations.0017_thread_rollups")

USER = "runs_userrollup"
# The thread statements, regrouped: table, key column and counters renamed.
RENAMES = (
    ("runs_tracerollup_thread", "runs_tracerollup_user"),
    ("runs_threadrollup", USER),
    ("thread_id", "user_id"),
    ("error_turns", "error_traces"),
    ("turns", "traces"),
    ("_thread_", "_user_"),
    ("thread_rollup", "user_rollup"),
)


def for_users(sql):
    for old, new in RENAMES:
        sql = sql.replace(old, new)
    return sql


def user_triggers(vendor):
    if vendor == "sqlite":
        statements = [s for s in threads.sqlite_forward() if "ON runs_tracerollup" in s]
    else:
        statements = [
            s
            for s in threads.pg_forward()
            if "thread_rollup" in s or "ON runs_tracerollup" in s
        ]
    return [for_users(s) for s in statements]


def backfill(vendor):
    return [for_users(threads.backfill(vendor)[-1])]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in ("sqlite", "postgresql"):
        threads._execute(schema_editor, [*backfill(vendor), *user_triggers(vendor)])


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    drops = {
        "sqlite": threads.SQLITE_BACKWARD[3:],
        "postgresql": threads.PG_BACKWARD[:2],
    }.get(vendor, [])
    threads._execute(schema_editor, [for_users(s) for s in drops])


class Migration(migrations.Migration):
    dependencies = [("runs", "0017_thread_rollups")]

    operations = [
        migrations.CreateModel(
            name="UserRollup",
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
                ("project_id", models.UUIDField()),
                ("user_id", models.CharField(max_length=255)),
                ("traces", models.IntegerField(default=0)),
                ("first_start", models.DateTimeField()),
                ("last_start", models.DateTimeField()),
                ("latency_ms", models.FloatField(default=0)),
                ("error_traces", models.IntegerField(default=0)),
                ("prompt_tokens", models.BigIntegerField(default=0)),
                ("completion_tokens", models.BigIntegerField(default=0)),
                ("total_tokens", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["project_id", "-last_start", "-id"],
                        name="user_rollup_last",
                    ),
                    models.Index(fields=["user_id"], name="user_rollup_user"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project_id", "user_id"), name="user_rollup_key"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
