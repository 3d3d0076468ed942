"""Full-text search indexes, kept in step with ingestion by the database.

The ingest service writes runs with raw ``INSERT ... ON CONFLICT DO UPDATE``;
indexes maintained by the database itself keep that write path single.

SQLite: a contentless FTS5 table with the trigram tokenizer (case-insensitive,
any script) fed by triggers. JSON bodies contribute their string values
(``json_tree``), so escaped and raw non-ASCII text index the same way. The index
holds no copy of the text (a delete repeats the indexed text, which the triggers
recompute from the old row) and no positions (``detail=none``): measured on
this project's machines, positions made ingestion 2.6x slower and the index 3x
larger. Queries therefore AND the query's trigrams and confirm the candidates
against the row's text (see runs/query/search.py).

NOTE: Django rebuilds a SQLite table for many ALTERs, which drops its triggers.
A later migration that alters ``runs_run`` on SQLite must re-create them and
rebuild ``runs_run_search``.

PostgreSQL: pg_trgm GIN index over an immutable function of the searchable text.

Both: a partial index of errored runs' traces (the ``has_error`` filter).
"""

from django.db import migrations

SQLITE_TEXT = """(
  coalesce({r}.name, '') || ' ' || coalesce({r}.error, '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree({r}.inputs)
            WHERE type = 'text'), '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree({r}.outputs)
            WHERE type = 'text'), '')
)"""

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE runs_run_search USING fts5("
    "body, content='', tokenize='trigram', detail=none)",
    f"""CREATE TRIGGER runs_run_search_ai AFTER INSERT ON runs_run BEGIN
      INSERT INTO runs_run_search(rowid, body)
      VALUES (new.rowid, {SQLITE_TEXT.format(r="new")});
    END""",
    f"""CREATE TRIGGER runs_run_search_ad AFTER DELETE ON runs_run BEGIN
      INSERT INTO runs_run_search(runs_run_search, rowid, body)
      VALUES ('delete', old.rowid, {SQLITE_TEXT.format(r="old")});
    END""",
    f"""CREATE TRIGGER runs_run_search_au AFTER UPDATE OF name, error, inputs, outputs
    ON runs_run
    WHEN old.name IS NOT new.name OR old.error IS NOT new.error
      OR old.inputs IS NOT new.inputs OR old.outputs IS NOT new.outputs
    BEGIN
      INSERT INTO runs_run_search(runs_run_search, rowid, body)
      VALUES ('delete', old.rowid, {SQLITE_TEXT.format(r="old")});
      INSERT INTO runs_run_search(rowid, body)
      VALUES (new.rowid, {SQLITE_TEXT.format(r="new")});
    END""",
    f"""INSERT INTO runs_run_search(rowid, body)
    SELECT rowid, {SQLITE_TEXT.format(r="runs_run")} FROM runs_run""",
    "CREATE INDEX run_error_trace ON runs_run (trace_id) WHERE status = 'error'",
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS run_error_trace",
    "DROP TRIGGER IF EXISTS runs_run_search_au",
    "DROP TRIGGER IF EXISTS runs_run_search_ad",
    "DROP TRIGGER IF EXISTS runs_run_search_ai",
    "DROP TABLE IF EXISTS runs_run_search",
]

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE OR REPLACE FUNCTION agentspy_run_text(
        name text, error text, inputs jsonb, outputs jsonb
    ) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(coalesce(name, '') || ' ' || coalesce(error, '') || ' ' ||
                   coalesce(inputs::text, '') || ' ' || coalesce(outputs::text, ''))
    $$""",
    "CREATE INDEX run_search_trgm ON runs_run USING gin "
    "(agentspy_run_text(name, error, inputs, outputs) gin_trgm_ops)",
    "CREATE INDEX run_error_trace ON runs_run (trace_id) WHERE status = 'error'",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS run_error_trace",
    "DROP INDEX IF EXISTS run_search_trgm",
    "DROP FUNCTION IF EXISTS agentspy_run_text(text, text, jsonb, jsonb)",
]


def _run(statements: dict[str, list[str]]):
    def apply(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("runs", "0003_api_keys")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        )
    ]
