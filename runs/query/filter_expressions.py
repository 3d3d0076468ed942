"""The filter language's own SQL expressions, for both databases.

Latency in seconds (as the index ``run_type_latency`` holds it), and
conditions on the entries of a run's JSON columns.

Expressions (not raw SQL naming ``runs_run``), so the compiler names the
column whatever alias the run table has: the filter language nests them in
trace subqueries. Values only ever travel as parameters.

An entry's value is compared as text (``"7"`` matches 7 and "7"), the way
PostgreSQL's ``jsonb_each_text`` and SQLite's ``json_each`` both read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func
from django.db.models.lookups import Lookup

from runs.query.search import like_pattern

SQLITE_VALUE = (
    "CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "WHEN 'null' THEN NULL ELSE CAST(e.value AS TEXT) END"
)


class LatencySeconds(Func):
    """End minus start in seconds, as the index ``run_type_latency`` holds it."""

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("start_time"), F("end_time"))

    def _columns(self, compiler: Any) -> tuple[str, str]:
        start, _ = compiler.compile(self.get_source_expressions()[0])
        end, _ = compiler.compile(self.get_source_expressions()[1])
        return start, end

    # Milliseconds, as LangSmith shows latency: julianday()'s doubles are off
    # by up to ~40 us, which would make gte(latency, 3) miss a 3.000 s run.
    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self._columns(compiler)
        return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)", []

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self._columns(compiler)
        return (
            f"(round(EXTRACT(EPOCH FROM ({end} - {start})), 3)::double precision)",
            [],
        )


@dataclass(frozen=True)
class EntryCondition:
    """``target`` ("key" or "value") ``op`` (eq, neq, in, search) ``texts``."""

    target: str
    op: str
    texts: tuple[str | None, ...]

    def sql(self, column: str) -> tuple[str, list[Any]]:
        if self.op == "search":
            return f"lower({column}) LIKE %s ESCAPE '\\'", [
                like_pattern((self.texts[0] or "").lower())
            ]
        values = [t for t in self.texts if t is not None]
        parts, params = [], []
        if values:
            parts.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
        if len(values) < len(self.texts):
            parts.append(f"{column} IS NULL")
        sql = "(" + " OR ".join(parts) + ")"
        return (f"NOT {sql}" if self.op == "neq" else sql), params


def like_condition(kind: str, op: str, texts: list[str | None]) -> EntryCondition:
    return EntryCondition("key" if kind == "key" else "value", op, tuple(texts))


class JsonEntryMatch(Func):
    """True when one entry of the object at ``column[path]`` meets every condition."""

    output_field = BooleanField()

    def __init__(self, column: str, path: str, conditions: list[EntryCondition]):
        super().__init__(F(column))
        self.path = path
        self.conditions = conditions

    def _column(self, compiler: Any) -> str:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        assert not params  # a plain column reference
        return sql

    def _where(self, key: str, value: str) -> tuple[str, list[Any]]:
        parts, params = [], []
        for condition in self.conditions:
            sql, more = condition.sql(key if condition.target == "key" else value)
            parts.append(sql)
            params.extend(more)
        return " AND ".join(parts), params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column = self._column(compiler)
        source = (
            f"json_each({column}, '$.{self.path}')"
            if self.path
            else (f"json_each({column})")
        )
        where, params = self._where("e.key", SQLITE_VALUE)
        return f"EXISTS (SELECT 1 FROM {source} AS e WHERE {where})", params

    def _containment(self) -> dict[str, str] | None:
        """``{key: value}`` when the conditions are one key and one value, equal."""
        by_target = {c.target: c for c in self.conditions}
        if len(self.conditions) != 2 or set(by_target) != {"key", "value"}:
            return None
        key, value = by_target["key"], by_target["value"]
        if key.op != "eq" or value.op != "eq" or None in (key.texts + value.texts):
            return None
        return {key.texts[0]: value.texts[0]}

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column = self._column(compiler)
        target = f"({column} -> '{self.path}')" if self.path else column
        pair = self._containment()
        if pair is not None:
            # The GIN index run_metadata (jsonb_path_ops) answers containment;
            # a number stored as a number is the same entry written as text.
            ((key, text),) = pair.items()
            shapes = [orjson.dumps({key: text}).decode()]
            number = _as_number(text)
            if number is not None:
                shapes.append(orjson.dumps({key: number}).decode())
            if text in ("true", "false"):
                shapes.append(orjson.dumps({key: text == "true"}).decode())
            sql = " OR ".join(f"{target} @> %s::jsonb" for _ in shapes)
            # Never NULL (a run without metadata is a plain false), so that
            # not(...) keeps such runs as SQLite's EXISTS does.
            return f"(({sql}) AND {target} IS NOT NULL)", shapes
        objects = f"CASE WHEN jsonb_typeof({target}) = 'object' THEN {target} END"
        where, params = self._where("e.key", "e.value")
        return (
            f"EXISTS (SELECT 1 FROM jsonb_each_text({objects}) AS e(key, value) "
            f"WHERE {where})",
            params,
        )


def _as_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


class TagMatch(Func):
    """True when the run's tags hold ``tag``."""

    output_field = BooleanField()

    def __init__(self, tag: str) -> None:
        super().__init__(F("tags"))
        self.tag = tag

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, _ = compiler.compile(self.get_source_expressions()[0])
        return (
            f"EXISTS (SELECT 1 FROM json_each({column}) AS t WHERE t.value = %s)",
            [self.tag],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, _ = compiler.compile(self.get_source_expressions()[0])
        return f"{column} @> %s::jsonb", [orjson.dumps([self.tag]).decode()]


# Above this many matching entries a metadata filter walks the runs instead of
# listing them (the lookup and sort of 5,000 runs costs what the walk costs).
SET_LIMIT = 5_000


def _indexable(conditions: list[EntryCondition]) -> bool:
    """Whether ``runs_run_metadata``'s key-first primary key answers these."""
    # A key alone may have a null or nested value, which the table leaves out.
    targets = {c.target for c in conditions}
    return targets == {"key", "value"} and all(
        c.op in ("eq", "in") and None not in c.texts for c in conditions
    )


class MetadataTableMatch(Lookup):
    """SQLite: runs listed in ``runs_run_metadata`` with a matching entry.

    A lookup rather than a function, so SQLite sees a bare ``id IN (...)``
    (a function would be compared with ``= 1``) and plans it as a list of
    primary-key lookups.
    """

    lookup_name = "in_metadata_entries"
    prepare_rhs = False

    def __init__(self, conditions: list[EntryCondition]) -> None:
        super().__init__(F("id"), tuple(conditions))

    def where(self) -> tuple[str, list[Any]]:
        parts, params = [], []
        for condition in self.rhs:
            sql, more = condition.sql(f"m.{condition.target}")
            parts.append(sql)
            params.extend(more)
        return " AND ".join(parts), params

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        column, _ = compiler.compile(self.lhs)
        where, params = self.where()
        return (
            f"{column} IN (SELECT m.run_id FROM runs_run_metadata AS m WHERE {where})",
            params,
        )


def metadata_match(conditions: list[EntryCondition]) -> Func | Lookup:
    """The cheapest exact plan for a metadata pair on this database.

    SQLite: few matching entries (at most ``SET_LIMIT``, counted through the
    entry table's primary key) are looked up by run id; many are found by
    walking the runs, where matches are common enough to fill a page soon.
    """
    match = JsonEntryMatch("extra", "metadata", conditions)
    if connection.vendor != "sqlite" or not _indexable(conditions):
        return match
    table = MetadataTableMatch(conditions)
    where, params = table.where()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM runs_run_metadata AS m "  # noqa: S608
            f"WHERE {where} LIMIT %s)",
            [*params, SET_LIMIT + 1],
        )
        (count,) = cursor.fetchone()
    return table if count <= SET_LIMIT else match
