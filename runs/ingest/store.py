"""Raw, parameterised SQL for the ingest hot path.

Django's ORM costs 55-70% of the insert rate here (building model instances
and preparing values field by field), so the ingest service writes rows
through the connection's cursor. Column names come from the model's
metadata, never from input; every value is a bound parameter.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection

from runs.models import Project, Run

JSON_COLUMNS = ("inputs", "outputs", "extra", "events", "serialized", "tags")
UUID_COLUMNS = ("id", "trace_id", "parent_run_id", "project_id", "reference_example_id")
TIME_COLUMNS = (
    "start_time",
    "end_time",
    "first_token_time",
    "created_at",
    "updated_at",
)
COLUMNS = (
    "id",
    "trace_id",
    "parent_run_id",
    "dotted_order",
    "project_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "inputs",
    "outputs",
    "error",
    "extra",
    "events",
    "serialized",
    "tags",
    "reference_example_id",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "model_name",
    "model_provider",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "price_source",
    "first_token_time",
    "created_at",
    "updated_at",
)
DEFAULTS: dict[str, Any] = {
    "name": "",
    # Unknown until the run's create arrives (a patch alone has no type).
    "run_type": "",
    "inputs": {},
    "extra": {},
    "events": [],
    "tags": [],
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "total_tokens": 0,
    "model_name": "",
    "model_provider": "",
    "price_source": "",
    "dotted_order": "",
}
# Row keys that are not columns of their own name.
_ALIASES = {"parent_run_id": "parent_run_id"}
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")

TABLE = Run._meta.db_table


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


# Trace locks live in the two-key advisory lock space, apart from run locks.
TRACE_LOCK_SPACE = 0x41535054


def _advisory_locks(ids: Iterable[uuid.UUID], trace_space: bool) -> None:
    """Transaction-scoped advisory locks, taken in sorted order so two
    requests never wait on each other in a cycle (PostgreSQL only: SQLite's
    IMMEDIATE transactions already hold the database write lock)."""
    if not _is_pg():
        return
    size, cast = (4, "int") if trace_space else (8, "bigint")
    keys = sorted({int.from_bytes(i.bytes[:size], "big", signed=True) for i in ids})
    if not keys:
        return
    space = f"{TRACE_LOCK_SPACE}, " if trace_space else ""
    lock = f"pg_advisory_xact_lock({space}k)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count({lock}) FROM "  # noqa: S608 (constants only)
            f"(SELECT unnest(%s::{cast}[]) AS k ORDER BY 1) AS keys",
            [keys],
        )


def lock_runs(ids: Iterable[uuid.UUID]) -> None:
    """Serialise concurrent writers of the same runs."""
    _advisory_locks(ids, trace_space=False)


def lock_traces(ids: Iterable[uuid.UUID]) -> None:
    """Serialise writers that rewrite a trace's stored tree.

    OTLP ingestion reads a trace's stored runs to complete dotted orders; two
    exporters of one trace (services of a distributed trace) must not both
    read before either writes. Taken before ``lock_runs``.
    """
    _advisory_locks(ids, trace_space=True)


def id_chunks(column: str, ids: Iterable[uuid.UUID]) -> Iterator[tuple[str, list[Any]]]:
    """``(condition, params)`` matching ``column`` to the ids, a chunk at a time.

    PostgreSQL gets one array parameter for all of them: the statement text
    stays the same, so psycopg parses it once, and quotes no 500-item list.
    SQLite gets ``IN`` lists of at most 500 (its bound-parameter limit).
    """
    if _is_pg():
        values = list(ids)
        if values:
            yield f"{column} = ANY(%s::uuid[])", [values]
        return
    values = [i.hex for i in ids]
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        yield f"{column} IN ({', '.join(['%s'] * len(chunk))})", chunk


def _from_db_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


def _from_db_json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def _from_db_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return Run._meta.get_field("start_time").from_db_value(value, None, connection)


def load_runs(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Stored rows of these runs, keyed by id, as plain dicts."""
    ids = list(ids)
    if not ids:
        return {}
    out: dict[uuid.UUID, dict[str, Any]] = {}
    cols = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        for condition, chunk in id_chunks("id", ids):
            cursor.execute(
                f"SELECT {cols} FROM {TABLE} WHERE {condition}",  # noqa: S608
                chunk,
            )
            for values in cursor.fetchall():
                row = dict(zip(COLUMNS, values, strict=True))
                for col in UUID_COLUMNS:
                    row[col] = _from_db_uuid(row[col])
                for col in JSON_COLUMNS:
                    row[col] = _from_db_json(row[col])
                for col in TIME_COLUMNS:
                    row[col] = _from_db_time(row[col])
                out[row["id"]] = row
    return out


def project_ids(names: Iterable[str]) -> dict[str, uuid.UUID]:
    """Ids of the projects with these names (raw SQL: this runs every request)."""
    names = list(names)
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, id FROM {Project._meta.db_table} "  # noqa: S608
            f"WHERE name IN ({marks})",
            names,
        )
        return {name: _from_db_uuid(pid) for name, pid in cursor.fetchall()}


def load_tree_fields(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """trace_id and dotted_order of stored runs (to place a new child under them)."""
    ids = list(ids)
    rows = Run.objects.filter(id__in=ids).values(
        "id", "trace_id", "dotted_order", "parent_id"
    )
    return {row["id"]: row for row in rows}


def _json_param(value: Any) -> str | None:
    if value is None:
        return None
    data = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    if b"\\u0000" in data:
        # PostgreSQL's jsonb cannot hold NUL characters; both databases store
        # U+FFFD instead so a run reads back the same from either.
        data = _NUL_ESCAPE.sub(rb"\1\\ufffd", data)
    return data.decode()


def _text_param(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


_JSON = frozenset(JSON_COLUMNS)
_UUID = frozenset(UUID_COLUMNS)
_TIME = frozenset(TIME_COLUMNS)


def _sqlite_time(value: datetime | None) -> str | None:
    # What Django's SQLite backend stores: naive UTC, str() of the datetime.
    if value is None:
        return None
    if value.tzinfo is not UTC:  # the decoders already normalise to UTC
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


def _row_params(row: dict[str, Any], pg: bool) -> list[Any]:
    """Bound values of one row, column by column (this runs for every run)."""
    params: list[Any] = []
    append = params.append
    for col in COLUMNS:
        value = row.get(col)
        if value is None:
            value = DEFAULTS.get(col)
        if col in _JSON:
            append(_json_param(value))
        elif col in _UUID:
            append(value if pg or value is None else value.hex)
        elif col in _TIME:
            append(value if pg else _sqlite_time(value))
        elif value.__class__ is str and "\x00" in value:
            append(_text_param(value))
        else:
            append(value)
    return params


@functools.lru_cache(maxsize=16)
def _upsert_sql(rows: int, pg: bool) -> str:
    """The upsert of ``rows`` rows; PostgreSQL's with native ``$n`` placeholders.

    psycopg parses ``%s`` placeholders in Python and caches that only for
    statements under 4 KB, so a multi-row statement would be re-parsed on
    every request.
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in COLUMNS)
    width = len(COLUMNS)
    if pg:
        casts = ["::jsonb" if c in JSON_COLUMNS else "" for c in COLUMNS]
        values = ", ".join(
            "("
            + ", ".join(f"${r * width + i}{cast}" for i, cast in enumerate(casts, 1))
            + ")"
            for r in range(rows)
        )
    else:
        marks = ", ".join(["%s"] * width)
        values = ", ".join([f"({marks})"] * rows)
    updates = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}"
        for c in COLUMNS
        if c not in ("id", "created_at")
    )
    return (
        f"INSERT INTO {TABLE} ({names}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


# SQLite fires the search-index triggers (migration 0004) inside each statement,
# and FTS5 flushes its buffer at every statement boundary: one multi-row
# statement per chunk instead of executemany's one per row measured 2.5x faster.
# 500 rows x 30 columns stays under SQLite's 32,766 bound parameters (and
# PostgreSQL's 65,535).
ROWS_PER_STATEMENT = 500


def row_params(row: dict[str, Any]) -> list[Any]:
    """The bound values of one row for ``upsert_params``."""
    return _row_params(row, _is_pg())


def _raw_cursor() -> Any:
    """A psycopg cursor with server-side binding and ``$n`` placeholders.

    Django's default psycopg cursor quotes every value into the statement
    text: for ~6 KB of JSON per row that costs Python the quoting and the
    backend the lexing of the literals. Wrapped like Django's own cursors, so
    query logging and execute wrappers still see the statement.
    """
    import psycopg  # only PostgreSQL deployments need it loaded

    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(psycopg.RawCursor(connection.connection))


def upsert_params(params: list[list[Any]]) -> None:
    """Insert or replace whole rows, given as ``row_params`` lists.

    One multi-row statement per chunk on both databases: PostgreSQL then
    parses and plans the upsert once per request instead of once per row.
    """
    if not params:
        return
    pg = _is_pg()
    with _raw_cursor() if pg else connection.cursor() as cursor:
        for start in range(0, len(params), ROWS_PER_STATEMENT):
            chunk = params[start : start + ROWS_PER_STATEMENT]
            cursor.execute(
                _upsert_sql(len(chunk), pg), [value for row in chunk for value in row]
            )


def upsert_runs(rows: list[dict[str, Any]]) -> None:
    """Insert or replace whole rows given as dicts of column values."""
    upsert_params([row_params(row) for row in rows])


def existing_ids(ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these runs are stored (an index probe, no row data)."""
    ids = list(ids)
    found: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for condition, chunk in id_chunks("id", ids):
            cursor.execute(
                f"SELECT id FROM {TABLE} WHERE {condition}",  # noqa: S608
                chunk,
            )
            found.update(_from_db_uuid(value) for (value,) in cursor.fetchall())
    return found


def update_trace_costs(trace_ids: Iterable[uuid.UUID]) -> None:
    """Set each root's ``trace_cost`` to the sum of its trace's run costs.

    SQL's sum skips nulls and is null when every run is unpriced. Only roots
    whose total changed are written (an unchanged row makes no new version).
    On PostgreSQL a root another transaction holds is skipped, never waited
    for: that writer's own recount follows, and waiting could close a lock
    cycle with it (each holding a root the other wants).
    """
    ids = list(trace_ids)
    if not ids:
        return
    total = (
        f"(SELECT sum(c.total_cost) FROM {TABLE} c "  # noqa: S608 (constants)
        "WHERE c.trace_id = p.trace_id)"
    )
    with connection.cursor() as cursor:
        for condition, chunk in id_chunks("p.trace_id", ids):
            if _is_pg():
                cursor.execute(
                    f"UPDATE {TABLE} r SET trace_cost = s.total FROM ("  # noqa: S608
                    f"SELECT p.id, {total} AS total FROM {TABLE} p "
                    f"WHERE p.parent_run_id IS NULL AND {condition} "
                    "FOR UPDATE OF p SKIP LOCKED) s "
                    "WHERE r.id = s.id AND r.trace_cost IS DISTINCT FROM s.total",
                    chunk,
                )
            else:
                cursor.execute(
                    f"UPDATE {TABLE} AS p SET trace_cost = {total} "  # noqa: S608
                    f"WHERE p.parent_run_id IS NULL AND {condition} "
                    f"AND p.trace_cost IS NOT {total}",
                    chunk,
                )
