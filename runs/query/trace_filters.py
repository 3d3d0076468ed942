"""Filters that select whole traces: a run is kept when any run of its trace
matches (the error is on a tool call, the model on an LLM call, the searched
words in some input), while lists mostly show the roots.

Each filter is planned per request, from a bounded look at its index:

* few matching traces (at most ``SET_LIMIT``): their ids are read from the
  index and the filter becomes ``trace_id IN (...)``; exact, and a count of
  the roots is cheap;
* many: a correlated ``EXISTS`` over the runs of each trace the outer query
  visits, so a newest-first page walks the roots index and stops once it has
  a page of matches, instead of collecting every match first (seconds at a
  million runs for a common word).

Both plans select the same runs; only their cost differs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.lookups import In

from runs.models import Run
from runs.query import threads
from runs.query.search import RunTextMatch, SearchText, candidate_traces

# Above this many matching traces (or candidate runs, for search) the
# correlated scan is used: probing 5,000 candidates costs ~25 ms, which is
# also what scanning traces for a page of matches costs at that density.
SET_LIMIT = 5_000
# A thread's traces are listed up to this many (a literal list on SQLite stays
# below its 32,766 parameters); past it they are a subquery.
THREAD_LIMIT = 30_000


class TraceIdIn(Func):
    """``trace_id = ANY(ids)`` with the ids bound as one array (PostgreSQL)."""

    output_field = BooleanField()

    def __init__(self, ids: list[uuid.UUID]) -> None:
        super().__init__(F("trace_id"))
        self.ids = ids

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, _ = compiler.compile(self.get_source_expressions()[0])
        return f"{column} = ANY(%s::uuid[])", [self.ids]


def _in_traces(ids: list[uuid.UUID]) -> Q:
    if not ids:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return Q(TraceIdIn(ids))
    # SQLite plans a literal list (one lookup of the trace index per id); a
    # list bound as one JSON parameter made it walk every root instead.
    # SET_LIMIT stays far below its 32,766 parameters.
    return Q(trace_id__in=ids)


class TraceScan(Exists):
    """``EXISTS`` checked trace by trace as the outer query walks its rows."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # OFFSET 0 keeps PostgreSQL from flattening the EXISTS into a join,
        # whose plan then rests on a selectivity guess for the condition (a
        # low guess for a common word scanned every run: 4 s). As a sub-plan
        # it probes the trace index once per root, and the walk stops with
        # the page, whatever the statistics say.
        return self.as_sql(
            compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra
        )


def scans_traces(queryset: QuerySet) -> bool:
    """Whether a trace filter of ``queryset`` runs as a trace-by-trace scan.

    Such a filter matches many traces; counting all of them is a full scan
    of the store, so callers show what their page found instead.
    """

    def contains(node: Any) -> bool:
        if isinstance(node, TraceScan):
            return True
        children = getattr(node, "children", None)
        if children is None:
            getter = getattr(node, "get_source_expressions", None)
            children = getter() if getter else []
        return any(contains(child) for child in children if child is not None)

    return contains(queryset.query.where)


def _any_run(condition: Q | Func) -> Exists:
    runs = Run.objects.filter(trace_id=OuterRef("trace_id")).filter(condition)
    return TraceScan(runs.order_by())


def _distinct_traces(runs: QuerySet) -> list[uuid.UUID] | None:
    traces = runs.order_by("trace_id").values_list("trace_id", flat=True).distinct()
    # Counting first: fetching 5,001 ids only to drop them cost ~50 ms.
    if traces[: SET_LIMIT + 1].count() > SET_LIMIT:
        return None
    return list(traces)


def _plan(runs_condition: Q | Func, small_set: list[uuid.UUID] | None) -> Q:
    if small_set is not None:
        return _in_traces(small_set)
    return Q(_any_run(runs_condition))


def with_error() -> Q:
    """Traces with an errored run (the partial index ``run_error_trace``)."""
    condition = Q(status=Run.Status.ERROR)
    return _plan(condition, _distinct_traces(Run.objects.filter(condition)))


def with_model(name: str) -> Q:
    """Traces with a run of this model (the index ``run_model_trace``)."""
    # The redundant term lets SQLite use the partial index (model_name <> '').
    condition = Q(model_name=name) & ~Q(model_name="")
    return _plan(condition, _distinct_traces(Run.objects.filter(condition)))


class ThreadTraces(In):
    """``trace_id`` in the list of a thread's traces: few, so a query it
    narrows is best read through the trace index (``led_by_traces``).

    A lookup, not a function: SQLite can only use an index for a lookup (it
    compares a function's result with true).
    """

    def __init__(self, ids: list[uuid.UUID]) -> None:
        super().__init__(F("trace_id"), ids)

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        column, params = self.process_lhs(compiler, connection)
        return f"{column} = ANY(%s::uuid[])", [*params, list(self.rhs)]


def in_threads(thread_ids: Iterable[str]) -> Q:
    """Runs of the traces that are turns of these threads (the thread rollups).

    A thread's turns are read from its rollup rows, never by reading the
    runs' metadata: a few index seeks however many runs are stored.
    """
    turns = threads.turns_of_threads(thread_ids).order_by().values("trace_id")
    ids = list(turns.values_list("trace_id", flat=True)[: THREAD_LIMIT + 1])
    if not ids:
        return Q(pk__in=[])
    if len(ids) > THREAD_LIMIT:
        return Q(trace_id__in=turns)
    return Q(ThreadTraces(ids))


def led_by_traces(node: Any) -> bool:
    """Whether a condition (a ``Q``, or a query's WHERE) keeps only rows of a
    thread's traces: a ``ThreadTraces`` that its top-level AND requires."""
    if getattr(node, "negated", False):
        return False
    if isinstance(node, ThreadTraces):
        return True
    children = getattr(node, "children", None)
    if children is None or getattr(node, "connector", "AND") != "AND":
        return False
    return any(led_by_traces(child) for child in children)


class Likely(Func):
    """``likely(test)``: SQLite takes the test as true of most rows, and so
    lets no index of it lead the query (``led_by_thread``)."""

    function = "likely"
    output_field = BooleanField()


def led_by_thread(queryset: QuerySet) -> QuerySet:
    """``queryset``, planned from the trace index when a thread's traces lead.

    SQLite keeps no statistics here, so it rates "one project" as narrow as
    "a thread's few traces" and walks the project's start-time index (every
    run of the project) to find a thread's handful. When the query requires
    a thread's traces, its project tests (a scoped key's, the body's
    sessions) are marked ``likely()`` and the trace index leads.
    """
    where = queryset.query.where
    if connection.vendor != "sqlite" or not led_by_traces(where):
        return queryset
    queryset = queryset.all()
    children = queryset.query.where.children
    queryset.query.where.children = [
        Likely(child) if _project_test(child) else child for child in children
    ]
    return queryset


def _project_test(node: Any) -> bool:
    """Whether a WHERE node is ``project_id = x`` or ``project_id IN (...)``."""
    target = getattr(getattr(node, "lhs", None), "target", None)
    return getattr(target, "name", None) == "project" and node.lookup_name in (
        "exact",
        "in",
    )


def with_text(text: str, projects: Iterable[uuid.UUID] | None = None) -> Q:
    """Traces with a run whose name, error, inputs or outputs contain ``text``.

    With ``projects`` (the filtered scope: a key's project, a project filter)
    only runs of those projects are matched, and the plan is chosen by how
    many runs match there, not in the whole store.
    """
    search = SearchText(text)
    scope = None if projects is None else frozenset(projects)
    condition: Q | Func = RunTextMatch(search)
    if scope is not None:
        condition = Q(condition) & Q(project_id__in=scope)
    return _plan(condition, candidate_traces(search, SET_LIMIT, scope))


def projects_of(queryset: QuerySet) -> set[uuid.UUID] | None:
    """The projects a run queryset is limited to by its AND-ed conditions
    (``project_id = x`` or ``project_id IN (...)``), or None if it is not."""
    found: set[uuid.UUID] | None = None
    where = queryset.query.where
    if where.connector != "AND" or where.negated:
        return None
    for child in where.children:
        if not _project_test(child):
            continue
        rhs = child.rhs
        if child.lookup_name == "exact" and isinstance(rhs, uuid.UUID):
            values = {rhs}
        elif child.lookup_name == "in" and isinstance(rhs, list | set | tuple):
            values = {v for v in rhs if isinstance(v, uuid.UUID)}
        else:
            continue
        found = values if found is None else found & values
    return found
