"""Full-text search over run names, inputs, outputs and errors.

Both databases use their own trigram index, kept in step with ingestion by the
database itself (migration 0004), so the one write path stays single:

* SQLite: a contentless FTS5 table ``runs_run_search`` (trigram tokenizer,
  ``detail=none``) fed by triggers on ``runs_run``. Without positions the index
  answers "rows holding every trigram of the query"; those candidates are then
  confirmed against the row's text, case-folded by ``agentspy_casefold`` (a
  Python function registered on each SQLite connection, as SQLite's own
  ``lower()`` folds ASCII only).
* PostgreSQL: a ``pg_trgm`` GIN index over ``agentspy_run_text(name, error,
  inputs, outputs)``, an immutable SQL function that lower-cases the text; the
  ``LIKE`` over that expression uses the index and rechecks by itself.

Queries shorter than three characters have no trigram to look up and scan the
table instead (correct, but slow on a large database).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

FTS_TABLE = "runs_run_search"
PG_TEXT = "agentspy_run_text(name, error, inputs, outputs)"
MIN_INDEXED_CHARS = 3
# A long query is narrowed by this many of its trigrams, then confirmed in full.
MAX_TRIGRAMS = 12
# The text the SQLite index holds for a row (the same expression as migration
# 0004's triggers): JSON bodies contribute their string values, unescaped.
SQLITE_TEXT = """(
  coalesce(runs_run.name, '') || ' ' || coalesce(runs_run.error, '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(runs_run.inputs)
            WHERE type = 'text'), '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(runs_run.outputs)
            WHERE type = 'text'), '')
)"""


def casefold(value: Any) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` hook: SQL functions the SQLite queries use."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "agentspy_casefold", 1, casefold, deterministic=True
        )


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_query(text: str) -> str:
    """Every trigram of ``text`` (spread over it when there are many), ANDed."""
    grams = list(dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2)))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def matching_runs_sql(text: str) -> tuple[str, list[str]]:
    """SQL selecting ``trace_id`` of the runs whose text contains ``text``."""
    if connection.vendor == "postgresql":
        return (
            f"SELECT trace_id FROM runs_run WHERE {PG_TEXT} LIKE %s ESCAPE '\\'",
            [like_pattern(text.lower())],
        )
    confirm = f"instr(agentspy_casefold({SQLITE_TEXT}), %s) > 0"
    if len(text) >= MIN_INDEXED_CHARS:
        return (
            "SELECT trace_id FROM runs_run WHERE rowid IN "
            f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s) "
            f"AND {confirm}",
            [fts_query(text), text.casefold()],
        )
    return (f"SELECT trace_id FROM runs_run WHERE {confirm}", [text.casefold()])


def matching_trace_ids(text: str) -> RawSQL:
    """A subquery of the trace ids with a run containing ``text``.

    Use it as ``Run.objects.filter(trace_id__in=matching_trace_ids(q))``.
    """
    sql, params = matching_runs_sql(text)
    return RawSQL(sql, params)
