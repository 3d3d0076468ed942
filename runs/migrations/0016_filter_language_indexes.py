"""Indexes for the filter language's selective comparisons.

``run_type_latency``: ``and(eq(run_type, "llm"), gt(latency, 5))`` read the
runs of a project newest first and computed every latency (3.3 s at a million
runs); an expression index over the latency in seconds, written exactly as
``filter_attributes.LatencySeconds`` compiles it, finds the few slow calls.

``run_metadata`` (PostgreSQL): a GIN ``jsonb_path_ops`` index over the run's
metadata answers a metadata key/value pair by containment; SQLite keeps the
entries in a table of their own (``runs_run_metadata``, below).

Plain ``CREATE INDEX`` statements: no table rebuild, so the SQLite triggers of
earlier migrations stay.
"""

from django.db import migrations

# SQLite has no index over JSON entries: runs_run_metadata holds each scalar
# metadata entry of each run (key, value as text, run id), kept in step by
# triggers like the search index of 0004/0007. WITHOUT ROWID: the primary key
# is the only B-tree, and deletes find their rows through it.
ENTRY_VALUE = (
    "CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST(value AS TEXT) END"
)


def _entries(row: str, source: str = "") -> str:
    return (
        f"SELECT key, {ENTRY_VALUE}, {row}.id FROM {source}"
        f"json_each({row}.extra, '$.metadata') "
        "WHERE key IS NOT NULL AND type NOT IN ('object', 'array', 'null')"
    )


SQLITE_METADATA = [
    "CREATE TABLE IF NOT EXISTS runs_run_metadata (key TEXT NOT NULL, "
    "value TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (key, value, run_id)) "
    "WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS runs_run_metadata_ai AFTER INSERT ON runs_run "
    f"BEGIN INSERT OR IGNORE INTO runs_run_metadata {_entries('new')}; END",
    "CREATE TRIGGER IF NOT EXISTS runs_run_metadata_au AFTER UPDATE OF extra "
    "ON runs_run WHEN old.extra IS NOT new.extra BEGIN "
    "DELETE FROM runs_run_metadata WHERE (key, value, run_id) IN "
    f"({_entries('old')}); INSERT OR IGNORE INTO runs_run_metadata {_entries('new')}; "
    "END",
    "CREATE TRIGGER IF NOT EXISTS runs_run_metadata_ad AFTER DELETE ON runs_run "
    "BEGIN DELETE FROM runs_run_metadata WHERE (key, value, run_id) IN "
    f"({_entries('old')}); END",
    # Runs stored before this migration.
    "INSERT OR IGNORE INTO runs_run_metadata "
    f"{_entries('runs_run', source='runs_run, ')}",
]
SQLITE_LATENCY = "round((julianday(end_time) - julianday(start_time)) * 86400.0, 3)"
PG_LATENCY = "(round(EXTRACT(EPOCH FROM (end_time - start_time)), 3)::double precision)"
FORWARDS = {
    "sqlite": [
        f"CREATE INDEX IF NOT EXISTS run_type_latency ON runs_run (run_type, {SQLITE_LATENCY})",
        *SQLITE_METADATA,
    ],
    "postgresql": [
        f"CREATE INDEX IF NOT EXISTS run_type_latency ON runs_run (run_type, {PG_LATENCY})",
        "CREATE INDEX IF NOT EXISTS run_metadata ON runs_run "
        "USING gin ((extra -> 'metadata') jsonb_path_ops)",
    ],
}
BACKWARDS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS runs_run_metadata_ai",
        "DROP TRIGGER IF EXISTS runs_run_metadata_au",
        "DROP TRIGGER IF EXISTS runs_run_metadata_ad",
        "DROP TABLE IF EXISTS runs_run_metadata",
        "DROP INDEX IF EXISTS run_type_latency",
    ],
    "postgresql": [
        "DROP INDEX IF EXISTS run_type_latency",
        "DROP INDEX IF EXISTS run_metadata",
    ],
}


def _run(statements):
    def operation(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("runs", "0015_agent_address_and_sharing")]

    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
