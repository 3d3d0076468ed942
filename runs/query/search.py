"""Full-text search over run names, inputs, outputs and errors.

Both databases use their own substring index, kept in step with ingestion by the
database itself (migration 0004), so the one write path stays single:

* SQLite: a contentless FTS5 table ``runs_run_search`` with the trigram
  tokenizer (case-insensitive, any script), fed by triggers on ``runs_run``;
  JSON bodies are indexed by their string values.
* PostgreSQL: a ``pg_trgm`` GIN index over ``agentspy_run_text(name, error,
  inputs, outputs)``, an immutable SQL function that lower-cases the text.

Trigrams cannot find a query shorter than three characters; such queries scan
the table with ``LIKE`` instead (correct, but slow on a large database).
"""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL

FTS_TABLE = "runs_run_search"
PG_TEXT = "agentspy_run_text(name, error, inputs, outputs)"
MIN_INDEXED_CHARS = 3
# The text the SQLite index holds for a row (the same expression as migration
# 0004's triggers): JSON bodies contribute their string values, unescaped.
SQLITE_TEXT = """(
  coalesce(runs_run.name, '') || ' ' || coalesce(runs_run.error, '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(runs_run.inputs)
            WHERE type = 'text'), '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(runs_run.outputs)
            WHERE type = 'text'), '')
)"""


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(text: str) -> str:
    """An FTS5 phrase: with the trigram tokenizer, a substring match."""
    return '"' + text.replace('"', '""') + '"'


def matching_runs_sql(text: str) -> tuple[str, list[str]]:
    """SQL selecting ``trace_id`` of the runs whose text contains ``text``."""
    if connection.vendor == "postgresql":
        return (
            f"SELECT trace_id FROM runs_run WHERE {PG_TEXT} LIKE %s ESCAPE '\\'",
            [like_pattern(text.lower())],
        )
    if len(text) >= MIN_INDEXED_CHARS:
        return (
            "SELECT trace_id FROM runs_run WHERE rowid IN "
            f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
            [fts_phrase(text)],
        )
    return (
        f"SELECT trace_id FROM runs_run WHERE {SQLITE_TEXT} LIKE %s ESCAPE '\\'",
        [like_pattern(text)],
    )


def matching_trace_ids(text: str) -> RawSQL:
    """A subquery of the trace ids with a run containing ``text``.

    Use it as ``Run.objects.filter(trace_id__in=matching_trace_ids(q))``.
    """
    sql, params = matching_runs_sql(text)
    return RawSQL(sql, params)
