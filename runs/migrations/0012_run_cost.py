"""Cost per run, per trace and in the hourly rollups; local model prices.

* ``runs_run`` gains ``prompt_cost``, ``completion_cost``, ``total_cost``,
  ``price_source`` and (roots) ``trace_cost``, added with plain SQL: an
  AddField with a default makes Django rebuild the SQLite table, which drops
  the search and rollup triggers (0004, 0005, 0007, 0008).
* Own tokens belong to LLM runs only: stored chains that were credited with
  the AIMessage they returned lose those tokens (they doubled trace totals).
* ``runs_runrollup`` gains the cost sums and ``unpriced_runs`` (LLM runs with
  tokens and no cost); the rollups are recounted from runs_run and the
  triggers of 0008 recreated with them. Writers wait meanwhile, as in 0008.
* Costs of stored runs are computed by ``manage.py reprice_runs``.
"""

from importlib import import_module

import django.utils.timezone
from django.db import migrations, models

rollup = import_module("runs.migrations.0008_rollup_model_name")

COLS = (
    "hour, project_id, run_type, status, is_root, latency_bucket, model_name, "
    "runs, prompt_tokens, completion_tokens, total_tokens, latency_ms, "
    "prompt_cost, completion_cost, total_cost, unpriced_runs"
)
COUNTED = (*rollup.COUNTED, "prompt_cost", "completion_cost", "total_cost")


def unpriced(r):
    return (
        f"CASE WHEN {r}.run_type = 'llm' AND {r}.total_tokens > 0 "
        f"AND {r}.total_cost IS NULL THEN 1 ELSE 0 END"
    )


def values(parts, r, sign):
    return (
        f"{rollup.values(parts, r, sign)}, {sign}coalesce({r}.prompt_cost, 0), "
        f"{sign}coalesce({r}.completion_cost, 0), {sign}coalesce({r}.total_cost, 0), "
        f"{sign}({unpriced(r)})"
    )


def changed(old, new, differs):
    return " OR ".join(f"{old}.{c} {differs} {new}.{c}" for c in COUNTED)


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER runs_run_rollup_ai AFTER INSERT ON runs_run BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES ({values(rollup.sqlite_parts, "new", "")});
    END""",
    f"""CREATE TRIGGER runs_run_rollup_ad AFTER DELETE ON runs_run BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES ({values(rollup.sqlite_parts, "old", "-")});
    END""",
    f"""CREATE TRIGGER runs_run_rollup_au AFTER UPDATE ON runs_run
    WHEN {changed("old", "new", "IS NOT")} BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES
        ({values(rollup.sqlite_parts, "old", "-")}),
        ({values(rollup.sqlite_parts, "new", "")});
    END""",
]

PG_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION agentspy_run_rollup() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO runs_runrollup ({COLS}) VALUES ({values(rollup.pg_parts, "NEW", "")});
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO runs_runrollup ({COLS}) VALUES ({values(rollup.pg_parts, "OLD", "-")});
      ELSE
        INSERT INTO runs_runrollup ({COLS}) VALUES
          ({values(rollup.pg_parts, "OLD", "-")}),
          ({values(rollup.pg_parts, "NEW", "")});
      END IF;
      RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS runs_run_rollup_upd ON runs_run",
    f"""CREATE TRIGGER runs_run_rollup_upd AFTER UPDATE ON runs_run
    FOR EACH ROW WHEN ({changed("OLD", "NEW", "IS DISTINCT FROM")})
    EXECUTE FUNCTION agentspy_run_rollup()""",
]


def recount_sql(parts):
    keys, latency_ms = parts("r")
    return (
        f"INSERT INTO runs_runrollup (id, {COLS}) "
        "SELECT 1 - row_number() OVER (), * FROM ("
        f"SELECT {keys}, count(*), sum(r.prompt_tokens), sum(r.completion_tokens), "
        f"sum(r.total_tokens), sum({latency_ms}), coalesce(sum(r.prompt_cost), 0), "
        "coalesce(sum(r.completion_cost), 0), coalesce(sum(r.total_cost), 0), "
        f"sum({unpriced('r')}) FROM runs_run r "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7) AS folded"
    )


def add_columns(real):
    return [
        f"ALTER TABLE runs_run ADD COLUMN prompt_cost {real} NULL",
        f"ALTER TABLE runs_run ADD COLUMN completion_cost {real} NULL",
        f"ALTER TABLE runs_run ADD COLUMN total_cost {real} NULL",
        f"ALTER TABLE runs_run ADD COLUMN trace_cost {real} NULL",
        "ALTER TABLE runs_run ADD COLUMN price_source varchar(255) NOT NULL "
        "DEFAULT ''",
        f"ALTER TABLE runs_runrollup ADD COLUMN prompt_cost {real} NOT NULL DEFAULT 0",
        f"ALTER TABLE runs_runrollup ADD COLUMN completion_cost {real} NOT NULL "
        "DEFAULT 0",
        f"ALTER TABLE runs_runrollup ADD COLUMN total_cost {real} NOT NULL DEFAULT 0",
        "ALTER TABLE runs_runrollup ADD COLUMN unpriced_runs bigint NOT NULL "
        "DEFAULT 0",
    ]


# Chains, tools, ... credited with the usage of a message they returned.
ZERO_OWN_TOKENS = (
    "UPDATE runs_run SET prompt_tokens = 0, completion_tokens = 0, "
    "total_tokens = 0 WHERE run_type <> 'llm' AND (prompt_tokens <> 0 "
    "OR completion_tokens <> 0 OR total_tokens <> 0)"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [
            *rollup.SQLITE_DROP,
            *add_columns("real"),
            ZERO_OWN_TOKENS,
            "DELETE FROM runs_runrollup",
            recount_sql(rollup.sqlite_parts),
            *SQLITE_TRIGGERS,
        ]
    elif vendor == "postgresql":
        statements = [
            "LOCK TABLE runs_run IN SHARE ROW EXCLUSIVE MODE",
            "DROP TRIGGER IF EXISTS runs_run_rollup_upd ON runs_run",
            *add_columns("double precision"),
            ZERO_OWN_TOKENS,
            "DELETE FROM runs_runrollup",
            recount_sql(rollup.pg_parts),
            *PG_TRIGGERS,
        ]
    else:
        return
    rollup._execute(schema_editor, statements)


def backwards(apps, schema_editor):
    # 0008's triggers come back; the cost columns go (tokens zeroed on
    # chains stay zero: they were counted twice).
    vendor = schema_editor.connection.vendor
    drop = [
        f"ALTER TABLE {table} DROP COLUMN {column}"
        for table, columns in (
            ("runs_run", ("prompt_cost", "completion_cost", "total_cost",
                          "trace_cost", "price_source")),
            ("runs_runrollup", ("prompt_cost", "completion_cost", "total_cost",
                                "unpriced_runs")),
        )
        for column in columns
    ]
    if vendor == "sqlite":
        rollup._execute(
            schema_editor,
            [*rollup.SQLITE_DROP, "DROP INDEX IF EXISTS run_roots_cost",
             "DROP INDEX IF EXISTS run_roots_project_cost", *drop,
             *rollup.SQLITE_TRIGGERS],
        )
    elif vendor == "postgresql":
        rollup._execute(schema_editor, [*drop, *rollup.PG_TRIGGERS])


FLOAT = {"null": True, "blank": True}


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0010_run_project_start"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *(
                    migrations.AddField(
                        model_name="run", name=name, field=models.FloatField(**FLOAT)
                    )
                    for name in ("prompt_cost", "completion_cost", "total_cost",
                                 "trace_cost")
                ),
                migrations.AddField(
                    model_name="run",
                    name="price_source",
                    field=models.CharField(blank=True, default="", max_length=255),
                ),
                *(
                    migrations.AddField(
                        model_name="runrollup",
                        name=name,
                        field=models.FloatField(default=0),
                    )
                    for name in ("prompt_cost", "completion_cost", "total_cost")
                ),
                migrations.AddField(
                    model_name="runrollup",
                    name="unpriced_runs",
                    field=models.BigIntegerField(default=0),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
        # Roots by trace cost (the traces table sorted by cost; priced only).
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                fields=["project", "-trace_cost", "-id"],
                name="run_roots_project_cost",
                condition=models.Q(parent__isnull=True, trace_cost__isnull=False),
            ),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                fields=["-trace_cost", "-id"],
                name="run_roots_cost",
                condition=models.Q(parent__isnull=True, trace_cost__isnull=False),
            ),
        ),
        migrations.CreateModel(
            name="ModelPrice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("model", models.CharField(max_length=255)),
                ("is_pattern", models.BooleanField(
                    default=False,
                    help_text="Treat the model as a regular expression matching "
                    "the whole name.")),
                ("provider", models.CharField(
                    blank=True, default="", help_text="Empty = any provider.",
                    max_length=255)),
                ("input_per_mtok", models.FloatField()),
                ("output_per_mtok", models.FloatField()),
                ("cache_read_per_mtok", models.FloatField(
                    blank=True, help_text="Empty = the input price.", null=True)),
                ("cache_write_per_mtok", models.FloatField(
                    blank=True, help_text="Empty = the input price.", null=True)),
                ("updated_at", models.DateTimeField(
                    default=django.utils.timezone.now)),
            ],
            options={"ordering": ["model", "provider"]},
        ),
        migrations.AddConstraint(
            model_name="modelprice",
            constraint=models.UniqueConstraint(
                fields=("model", "provider"), name="model_price_unique"
            ),
        ),
    ]
