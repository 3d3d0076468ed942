"""Full-text search over run names, inputs, outputs and errors.

A run matches when the stored text of its name, error, inputs or outputs
contains the query, case-insensitively, in any script. Bodies are matched as
stored JSON (UTF-8, quotes and control characters escaped), so the query is
looked for both as typed and in its JSON-escaped form.

Both databases keep a trigram index of that text in step with every write
(migrations 0004 and 0007): SQLite a contentless FTS5 table
``runs_run_search``, PostgreSQL a ``pg_trgm`` GIN index over
``agentspy_run_text(name, error, inputs, outputs)``. The index answers "which
runs might match" (``candidate_traces``); ``RunTextMatch`` decides for one
run, and is what a trace-by-trace scan evaluates (see ``trace_filters``):

* SQLite: ``LIKE`` on each column, which folds ASCII case only; a query with
  a cased non-ASCII letter (É, Ж) is compared through ``agentspy_casefold``, a
  Python function registered on each connection (~3x slower).
* PostgreSQL: ``LIKE`` over the lower-cased text expression of the index.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.db import connection
from django.db.models import BooleanField, F, Func
from django.db.models.expressions import RawSQL

from runs.models import Run

FTS_TABLE = "runs_run_search"
PG_TEXT = "agentspy_run_text({}, {}, {}, {})"
# PostgreSQL's index reads the text with these replaced by JOIN_MARK, so that
# an identifier stays one pg_trgm word (migration 0009).
PG_INDEXED_TEXT = "agentspy_run_search_text({}, {}, {}, {})"
JOINERS = "-_.@/"
JOIN_MARK = "\u01c1"
MIN_INDEXED_CHARS = 3
# A long query is narrowed by this many of its trigrams, then confirmed in full.
MAX_TRIGRAMS = 12
# How many times the set limit of candidates a search within some projects
# looks at before it scans instead (most may be in other projects).
SCOPED_BUDGET = 4


def fold(value: Any) -> str | None:
    """Case folding for search (``lower``: what FTS5 and PostgreSQL do too)."""
    return value.lower() if isinstance(value, str) else None


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` hook: SQL functions the SQLite queries use."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "agentspy_casefold", 1, fold, deterministic=True
        )


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_foldable(text: str) -> bool:
    """True when SQLite's ASCII-only ``LIKE`` folds this query correctly."""
    return all(c.isascii() or c.lower() == c.upper() for c in text)


class SearchText:
    """One search query, in the forms each column holds it."""

    def __init__(self, text: str) -> None:
        self.text = text
        # How the text appears inside a stored JSON string.
        self.in_json = orjson.dumps(text).decode()[1:-1]
        self.forms = list(dict.fromkeys((text, self.in_json)))

    @property
    def indexed(self) -> bool:
        return len(self.text) >= MIN_INDEXED_CHARS


def fts_query(text: str) -> str:
    """Every trigram of ``text`` (spread over it when there are many), ANDed."""
    grams = list(dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2)))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


class RunTextMatch(Func):
    """True for a run whose name, error, inputs or outputs contain the text."""

    output_field = BooleanField()

    def __init__(self, search: SearchText) -> None:
        super().__init__(F("name"), F("error"), F("inputs"), F("outputs"))
        self.search = search

    def _columns(self, compiler: Any, connection: Any) -> list[str]:
        columns = []
        for expression in self.get_source_expressions():
            sql, params = compiler.compile(expression)
            assert not params  # plain column references
            columns.append(sql)
        return columns

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        name, error, inputs, outputs = self._columns(compiler, connection)
        search = self.search
        if _ascii_foldable(search.text):
            # Plain columns hold the text as typed, JSON bodies escaped.
            parts = [f"{name} LIKE %s ESCAPE '\\'", f"{error} LIKE %s ESCAPE '\\'"]
            params = [like_pattern(search.text)] * 2
            for body in (inputs, outputs):
                parts.append(f"{body} LIKE %s ESCAPE '\\'")
                params.append(like_pattern(search.in_json))
            return "(" + " OR ".join(parts) + ")", params
        text = (
            f"agentspy_casefold(coalesce({name}, '') || ' ' || coalesce({error}, '')"
            f" || ' ' || coalesce({inputs}, '') || ' ' || coalesce({outputs}, ''))"
        )
        parts = [f"instr({text}, %s) > 0" for _ in search.forms]
        return "(" + " OR ".join(parts) + ")", [fold(f) for f in search.forms]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        text = PG_TEXT.format(*self._columns(compiler, connection))
        parts = [f"{text} LIKE %s ESCAPE '\\'" for _ in self.search.forms]
        return "(" + " OR ".join(parts) + ")", [
            like_pattern(fold(f)) for f in self.search.forms
        ]


def joined(text: str) -> str:
    """``text`` as PostgreSQL's search index reads it (see migration 0009)."""
    for char in JOINERS:
        text = text.replace(char, JOIN_MARK)
    return text


class RunIndexedTextMatch(RunTextMatch):
    """PostgreSQL: the index's necessary condition for ``RunTextMatch``.

    Every run that matches passes it (the replacement preserves containment);
    a few that do not match pass too, so it is only used beside the real one.
    """

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        raise NotImplementedError("PostgreSQL only")  # pragma: no cover

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        text = PG_INDEXED_TEXT.format(*self._columns(compiler, connection))
        parts = [f"{text} LIKE %s ESCAPE '\\'" for _ in self.search.forms]
        return "(" + " OR ".join(parts) + ")", [
            like_pattern(joined(fold(f))) for f in self.search.forms
        ]


def candidate_traces(
    search: SearchText, limit: int, projects: frozenset[uuid.UUID] | None = None
) -> list[uuid.UUID] | None:
    """The traces with a matching run, when the index finds at most ``limit``
    candidate runs; None when there are more (or the query is too short to use
    the index), so the caller scans traces instead.

    With ``projects`` only runs of those projects count: a word common in
    other projects does not force a scan of these. Their share of the index's
    candidates is unknown until looked at, so up to ``SCOPED_BUDGET`` times
    ``limit`` candidates are looked at before giving up.
    """
    if not search.indexed:
        return None
    budget = limit if projects is None else limit * SCOPED_BUDGET
    if connection.vendor != "sqlite":
        candidates = Run.objects.filter(RunIndexedTextMatch(search)).order_by()
        if projects is not None:
            candidates = candidates.filter(project_id__in=projects)
        if _pg_estimate(candidates) > budget:
            # Rechecking candidates costs ~5 us each plus a heap page: a common
            # word would spend 200 ms here only to learn it should scan.
            return None
        # The GIN index finds the candidates, the real text confirms them.
        matches = candidates.filter(RunTextMatch(search))
        found = list(matches.values_list("trace_id", flat=True)[: limit + 1])
        return None if len(found) > limit else list(dict.fromkeys(found))
    match = " OR ".join(f"({fts_query(f)})" for f in search.forms)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s",  # noqa: S608
            [match, budget + 1],
        )
        rowids = [rowid for (rowid,) in cursor.fetchall()]
    if len(rowids) > budget:
        return None
    # Without positions the index over-approximates: confirm each candidate.
    in_rowids = RawSQL(
        "runs_run.rowid IN (SELECT value FROM json_each(%s))",
        [orjson.dumps(rowids).decode()],
        output_field=BooleanField(),
    )
    matches = Run.objects.filter(in_rowids)
    if projects is not None:
        # Unary plus: tested on each candidate row, never through the project
        # index (which would walk every run of the project instead).
        matches = matches.filter(
            RawSQL(
                "+runs_run.project_id IN (SELECT value FROM json_each(%s))",
                [orjson.dumps([p.hex for p in projects]).decode()],
                output_field=BooleanField(),
            )
        )
    found = list(
        matches.filter(RunTextMatch(search))
        .order_by()
        .values_list("trace_id", flat=True)
        .distinct()[: limit + 1]
    )
    return None if len(found) > limit else found


def _pg_estimate(queryset: Any) -> float:
    """The planner's row estimate (pg_trgm keeps statistics for the index)."""
    sql, params = queryset.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):  # pragma: no cover (psycopg parses json)
        plan = orjson.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])
