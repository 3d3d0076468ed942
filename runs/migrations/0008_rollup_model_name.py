"""Hourly rollups per model name too, for the overview's model breakdown.

Adds ``runs_runrollup.model_name`` with plain SQL (an AddField with a default
makes Django rebuild the table on SQLite), recounts the rollups from runs_run
with the new key (as folded rows, ids <= 0: nothing left to compact) and
recreates the triggers of migration 0005 with the model in their rows. Writers
wait meanwhile (SQLite: the migration holds the write lock; PostgreSQL: a SHARE
lock on runs_run), so no run is counted twice or missed.
"""

from importlib import import_module

from django.db import migrations, models

COLS = (
    "hour, project_id, run_type, status, is_root, latency_bucket, model_name, "
    "runs, prompt_tokens, completion_tokens, total_tokens, latency_ms"
)
COUNTED = (
    "start_time", "end_time", "project_id", "run_type", "status", "parent_run_id",
    "prompt_tokens", "completion_tokens", "total_tokens", "model_name",
)


def sqlite_parts(r):
    # As in 0005: whole seconds from strftime plus the stored ".ffffff" fraction.
    latency = (
        f"((strftime('%s', {r}.end_time) - strftime('%s', {r}.start_time)) * 1000.0"
        f" + (CAST(substr({r}.end_time, 20) AS REAL)"
        f" - CAST(substr({r}.start_time, 20) AS REAL)) * 1000.0)"
    )
    keys = (
        f"strftime('%Y-%m-%d %H:00:00', {r}.start_time), {r}.project_id, "
        f"{r}.run_type, {r}.status, {r}.parent_run_id IS NULL, "
        f"CASE WHEN {r}.parent_run_id IS NULL AND {r}.end_time IS NOT NULL "
        f"THEN CAST(min(200, floor(20 * log10(max(1.0, {latency})))) AS INTEGER) "
        f"END, {r}.model_name"
    )
    latency_ms = (
        f"CASE WHEN {r}.parent_run_id IS NULL AND {r}.end_time IS NOT NULL "
        f"THEN {latency} ELSE 0 END"
    )
    return keys, latency_ms


def pg_parts(r):
    latency = f"extract(epoch FROM ({r}.end_time - {r}.start_time)) * 1000"
    keys = (
        f"date_trunc('hour', {r}.start_time, 'UTC'), {r}.project_id, "
        f"{r}.run_type, {r}.status, {r}.parent_run_id IS NULL, "
        f"CASE WHEN {r}.parent_run_id IS NULL AND {r}.end_time IS NOT NULL "
        f"THEN least(200, floor(20 * log(greatest(1.0, {latency}))))::smallint "
        f"END, {r}.model_name"
    )
    latency_ms = (
        f"CASE WHEN {r}.parent_run_id IS NULL AND {r}.end_time IS NOT NULL "
        f"THEN {latency} ELSE 0 END"
    )
    return keys, latency_ms


def values(parts, r, sign):
    keys, latency_ms = parts(r)
    return (
        f"{keys}, {sign}1, {sign}{r}.prompt_tokens, {sign}{r}.completion_tokens, "
        f"{sign}{r}.total_tokens, {sign}({latency_ms})"
    )


def changed(old, new, differs):
    return " OR ".join(f"{old}.{c} {differs} {new}.{c}" for c in COUNTED)


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER runs_run_rollup_ai AFTER INSERT ON runs_run BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES ({values(sqlite_parts, "new", "")});
    END""",
    f"""CREATE TRIGGER runs_run_rollup_ad AFTER DELETE ON runs_run BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES ({values(sqlite_parts, "old", "-")});
    END""",
    f"""CREATE TRIGGER runs_run_rollup_au AFTER UPDATE ON runs_run
    WHEN {changed("old", "new", "IS NOT")} BEGIN
      INSERT INTO runs_runrollup ({COLS}) VALUES
        ({values(sqlite_parts, "old", "-")}), ({values(sqlite_parts, "new", "")});
    END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS runs_run_rollup_{t}" for t in ("ai", "ad", "au")]

PG_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION agentspy_run_rollup() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO runs_runrollup ({COLS}) VALUES ({values(pg_parts, "NEW", "")});
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO runs_runrollup ({COLS}) VALUES ({values(pg_parts, "OLD", "-")});
      ELSE
        INSERT INTO runs_runrollup ({COLS}) VALUES
          ({values(pg_parts, "OLD", "-")}), ({values(pg_parts, "NEW", "")});
      END IF;
      RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS runs_run_rollup_upd ON runs_run",
    f"""CREATE TRIGGER runs_run_rollup_upd AFTER UPDATE ON runs_run
    FOR EACH ROW WHEN ({changed("OLD", "NEW", "IS DISTINCT FROM")})
    EXECUTE FUNCTION agentspy_run_rollup()""",
]


def recount_sql(parts):
    """Every key's sums straight from runs_run, as folded rows (ids <= 0)."""
    keys, latency_ms = parts("r")
    return (
        f"INSERT INTO runs_runrollup (id, {COLS}) "
        "SELECT 1 - row_number() OVER (), * FROM ("
        f"SELECT {keys}, count(*), sum(r.prompt_tokens), sum(r.completion_tokens), "
        f"sum(r.total_tokens), sum({latency_ms}) FROM runs_run r "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7) AS folded"
    )


ADD_COLUMN = (
    "ALTER TABLE runs_runrollup ADD COLUMN model_name varchar(255) NOT NULL DEFAULT ''"
)


def _execute(schema_editor, statements):
    # A cursor without parameters: "%s" in strftime() must reach SQLite as is.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _execute(
            schema_editor,
            [
                *SQLITE_DROP,
                ADD_COLUMN,
                "DELETE FROM runs_runrollup",
                recount_sql(sqlite_parts),
                *SQLITE_TRIGGERS,
            ],
        )
    elif vendor == "postgresql":
        _execute(
            schema_editor,
            [
                "LOCK TABLE runs_run IN SHARE MODE",
                ADD_COLUMN,
                "DELETE FROM runs_runrollup",
                recount_sql(pg_parts),
                *PG_TRIGGERS,
            ],
        )


def backwards(apps, schema_editor):
    # The rows keep their per-model split (sums stay exact); 0005's triggers
    # come back without the model.
    old = import_module("runs.migrations.0005_run_rollups")
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _execute(
            schema_editor,
            [
                *SQLITE_DROP,
                "ALTER TABLE runs_runrollup DROP COLUMN model_name",
                *old.SQLITE_FORWARD,
            ],
        )
    elif vendor == "postgresql":
        _execute(
            schema_editor,
            [
                *old.PG_BACKWARD,
                "ALTER TABLE runs_runrollup DROP COLUMN model_name",
                *old.PG_FORWARD,
            ],
        )


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0007_search_raw_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="runrollup",
                    name="model_name",
                    field=models.CharField(blank=True, default="", max_length=255),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
