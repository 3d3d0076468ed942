"""Trigger SQL of the trace, thread and user rollups (``runs.thread_models``).

Triggers on runs_run keep one runs_tracerollup row per trace (the root's
fields, sums over every run); triggers on runs_tracerollup keep one row per
(project, key) in each group table: threads (``thread_id``) and users
(``user_id``), built from one description each (``Group``). Every change
removes the old row's contribution and adds the new one, so replays, patches,
a run moving trace, deletes and purges stay exact whoever wrote them.

Cost is a nullable sum: null while no run of the trace (thread, user) is
priced, as a root's ``trace_cost``, so an unknown model never reads as $0.
``priced_runs`` counts the priced runs beneath a row, which tells when a
subtraction leaves nothing priced (the sum goes back to null, not to 0.0).

``sqlite_triggers``/``pg_triggers`` create, ``sqlite_drops``/``pg_drops``
drop, ``backfill_cost`` fills the cost columns of rows stored before them.
Migrations 0017/0018 keep their own (cost-free) text: they are history.
"""

from __future__ import annotations

from dataclasses import dataclass

TRACE = "runs_tracerollup"
TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")
# Summed columns that add and subtract plainly ("total_cost" is the nullable one).
SUMS = (*TOKENS, "priced_runs")
THREAD_KEYS = ("thread_id", "session_id", "conversation_id")
# Run columns whose change can change a rollup (trace_cost is derived: not here).
WATCHED = (
    "trace_id", "parent_run_id", "project_id", "status", "start_time", "end_time",
    "extra", *TOKENS, "total_cost",
)  # fmt: skip
TRACE_COLS = (
    "trace_id, project_id, root_id, thread_id, user_id, start_time, end_time, "
    "latency_ms, status, error_runs, " + ", ".join(SUMS) + ", total_cost"
)
FROM_ROOT = (
    "root_id", "thread_id", "user_id", "start_time", "end_time", "latency_ms", "status"
)  # fmt: skip


@dataclass(frozen=True)
class Group:
    """A rollup of traces by one key of their root (a table of ``thread_models``)."""

    table: str
    key: str  # the key column, in runs_tracerollup and in the table
    count: str  # traces counted
    errors: str  # traces with at least one failed run
    name: str  # in trigger and function names

    @property
    def cols(self) -> str:
        return (
            f"project_id, {self.key}, {self.count}, first_start, last_start, "
            f"latency_ms, {self.errors}, " + ", ".join(SUMS) + ", total_cost"
        )


THREADS = Group("runs_threadrollup", "thread_id", "turns", "error_turns", "thread")
USERS = Group("runs_userrollup", "user_id", "traces", "error_traces", "user")
GROUPS = (THREADS, USERS)


def is_error(cond: str) -> str:
    return f"(CASE WHEN {cond} THEN 1 ELSE 0 END)"


def priced(r: str) -> str:
    return is_error(f"{r}.total_cost IS NOT NULL")


def cost_moved(row: str, runs: str, cost: str) -> str:
    """``total_cost`` after ``runs`` priced runs costing ``cost`` came (or left)."""
    return (
        f"total_cost = CASE WHEN {row}priced_runs + {runs} = 0 THEN NULL "
        f"ELSE coalesce({row}total_cost, 0) + {cost} END"
    )


def relevant(r: str) -> str:
    """Runs that count: roots, failed runs, runs with tokens or a cost."""
    tokens = " OR ".join(f"{r}.{c} <> 0" for c in TOKENS)
    return (
        f"({r}.parent_run_id IS NULL OR {r}.status = 'error' OR {tokens} "
        f"OR {r}.total_cost IS NOT NULL)"
    )


def changed(old: str, new: str, differs: str) -> str:
    return "(" + " OR ".join(f"{old}.{c} {differs} {new}.{c}" for c in WATCHED) + ")"


def member(g: Group, r: str) -> str:
    """Trace rows counted in the group: a stored root with the key set."""
    return (
        f"({r}.root_id IS NOT NULL AND {r}.{g.key} <> '' "
        f"AND {r}.project_id IS NOT NULL)"
    )


def same_place(g: Group, old: str, new: str) -> str:
    """An update that keeps a trace in its group at its place: only sums moved."""
    return (
        f"({member(g, old)} AND {member(g, new)} AND {old}.project_id = "
        f"{new}.project_id AND {old}.{g.key} = {new}.{g.key} "
        f"AND {old}.start_time = {new}.start_time)"
    )


class Dialect:
    """The statements, in the spelling of one database."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"
        self.least = "least" if self.pg else "min"
        self.greatest = "greatest" if self.pg else "max"

    def meta(self, r: str, key: str) -> str:
        if self.pg:
            return f"NULLIF({r}.extra -> 'metadata' ->> '{key}', '')"
        return f"NULLIF(CAST(json_extract({r}.extra, '$.metadata.{key}') AS TEXT), '')"

    def thread(self, r: str) -> str:
        keys = ", ".join(self.meta(r, k) for k in THREAD_KEYS)
        return f"substr(coalesce({keys}, ''), 1, 255)"

    def user(self, r: str) -> str:
        return f"substr(coalesce({self.meta(r, 'user_id')}, ''), 1, 255)"

    def latency(self, r: str) -> str:
        if self.pg:
            return f"extract(epoch FROM ({r}.end_time - {r}.start_time)) * 1000"
        # As migration 0005: whole seconds plus the stored fraction, exact.
        return (
            f"((strftime('%s', {r}.end_time) - strftime('%s', {r}.start_time)) * 1000.0"
            f" + (CAST(substr({r}.end_time, 20) AS REAL)"
            f" - CAST(substr({r}.start_time, 20) AS REAL)) * 1000.0)"
        )

    def upsert_target(self, table: str, alias: str) -> tuple[str, str]:
        """The INSERT target and how DO UPDATE names the stored row."""
        # SQLite accepts no alias on an INSERT inside a trigger.
        return (f"{table} AS {alias}", f"{alias}.") if self.pg else (table, f"{table}.")

    # -- runs_run -> runs_tracerollup ------------------------------------
    def trace_add(self, r: str, when: str = "true") -> str:
        root = f"{r}.parent_run_id IS NULL"

        def if_root(value: str, other: str = "NULL") -> str:
            return f"CASE WHEN {root} THEN {value} ELSE {other} END"

        latency = (
            f"CASE WHEN {root} AND {r}.end_time IS NOT NULL THEN {self.latency(r)} END"
        )
        values = [
            f"{r}.trace_id",
            f"{r}.project_id",
            if_root(f"{r}.id"),
            if_root(self.thread(r), "''"),
            if_root(self.user(r), "''"),
            if_root(f"{r}.start_time"),
            if_root(f"{r}.end_time"),
            latency,
            if_root(f"{r}.status", "''"),
            is_error(f"{r}.status = 'error'"),
            *(f"{r}.{c}" for c in TOKENS),
            priced(r),
            f"{r}.total_cost",
        ]
        target, t = self.upsert_target(TRACE, "t")
        sets = [
            "project_id = CASE WHEN excluded.root_id IS NOT NULL THEN "
            "excluded.project_id ELSE "
            f"coalesce({t}project_id, excluded.project_id) END",
            *(
                f"{c} = CASE WHEN excluded.root_id IS NOT NULL "
                f"THEN excluded.{c} ELSE {t}{c} END"
                for c in FROM_ROOT
            ),
            *(f"{c} = {t}{c} + excluded.{c}" for c in ("error_runs", *SUMS)),
            cost_moved(t, "excluded.priced_runs", "coalesce(excluded.total_cost, 0)"),
        ]
        # A WHERE also tells SQLite's parser the SELECT ends before ON CONFLICT.
        return (
            f"INSERT INTO {target} ({TRACE_COLS}) SELECT {', '.join(values)} "
            f"WHERE {when} ON CONFLICT (trace_id) DO UPDATE SET {', '.join(sets)}"
        )

    def trace_remove(self, r: str, when: str = "true") -> list[str]:
        mine = f"root_id = {r}.id"
        cleared = {
            "root_id": "NULL", "thread_id": "''", "user_id": "''",
            "start_time": "NULL", "end_time": "NULL", "latency_ms": "NULL",
            "status": "''",
        }  # fmt: skip
        sets = [
            *(
                f"{c} = CASE WHEN {mine} THEN {v} ELSE {c} END"
                for c, v in cleared.items()
            ),
            f"error_runs = error_runs - {is_error(f"{r}.status = 'error'")}",
            *(f"{c} = {c} - {r}.{c}" for c in TOKENS),
            f"priced_runs = priced_runs - {priced(r)}",
            cost_moved("", f"-{priced(r)}", f"-coalesce({r}.total_cost, 0)"),
        ]
        empty = " AND ".join(f"{c} = 0" for c in ("error_runs", *SUMS))
        return [
            f"UPDATE {TRACE} SET {', '.join(sets)} "
            f"WHERE {when} AND trace_id = {r}.trace_id",
            f"DELETE FROM {TRACE} WHERE {when} AND trace_id = {r}.trace_id "
            f"AND root_id IS NULL AND {empty}",
        ]

    # -- runs_tracerollup -> a group table -------------------------------
    def key(self, g: Group, r: str) -> str:
        return f"project_id = {r}.project_id AND {g.key} = {r}.{g.key}"

    def group_add(self, g: Group, r: str) -> str:
        values = (
            f"{r}.project_id, {r}.{g.key}, 1, {r}.start_time, {r}.start_time, "
            f"coalesce({r}.latency_ms, 0), {is_error(f'{r}.error_runs > 0')}, "
            + ", ".join(f"{r}.{c}" for c in SUMS)
            + f", {r}.total_cost"
        )
        target, h = self.upsert_target(g.table, "h")
        sets = [
            f"{g.count} = {h}{g.count} + 1",
            f"first_start = {self.least}({h}first_start, excluded.first_start)",
            f"last_start = {self.greatest}({h}last_start, excluded.last_start)",
            *(f"{c} = {h}{c} + excluded.{c}" for c in ("latency_ms", g.errors, *SUMS)),
            cost_moved(h, "excluded.priced_runs", "coalesce(excluded.total_cost, 0)"),
        ]
        return (
            f"INSERT INTO {target} ({g.cols}) SELECT {values} WHERE {member(g, r)} "
            f"ON CONFLICT (project_id, {g.key}) DO UPDATE SET {', '.join(sets)}"
        )

    def group_shift(self, g: Group, old: str, new: str) -> list[str]:
        """SET terms taking ``old``'s contribution out and ``new``'s in."""
        terms = []
        if old:
            terms.append(("-", old))
        if new:
            terms.append(("+", new))

        def delta(value: str) -> str:
            return " ".join(f"{s} {value.format(r=r)}" for s, r in terms)

        return [
            f"latency_ms = latency_ms {delta('coalesce({r}.latency_ms, 0)')}",
            f"{g.errors} = {g.errors} {delta(is_error('{r}.error_runs > 0'))}",
            *(f"{c} = {c} {delta('{r}.' + c)}" for c in SUMS),
            cost_moved(
                "",
                f"0 {delta('{r}.priced_runs')}",
                f"0 {delta('coalesce({r}.total_cost, 0)')}",
            ),
        ]

    def group_remove(self, g: Group, r: str) -> str:
        sets = [f"{g.count} = {g.count} - 1", *self.group_shift(g, r, "")]
        return (
            f"UPDATE {g.table} SET {', '.join(sets)} "
            f"WHERE {self.key(g, r)} AND {member(g, r)}"
        )

    def group_move(self, g: Group, old: str, new: str) -> str:
        """The sums of a trace that stayed in place: one row updated by deltas."""
        sets = self.group_shift(g, old, new)
        return f"UPDATE {g.table} SET {', '.join(sets)} WHERE {self.key(g, new)}"

    def group_settle(self, g: Group, r: str) -> list[str]:
        """After a trace left: the ends recomputed (two index seeks), empty gone."""
        rows = (
            f"FROM {TRACE} x WHERE x.project_id = {r}.project_id "
            f"AND x.{g.key} = {r}.{g.key} AND NOT (x.{g.key} = '')"
        )
        return [
            f"UPDATE {g.table} SET first_start = (SELECT min(x.start_time) {rows}), "
            f"last_start = (SELECT max(x.start_time) {rows}) "
            f"WHERE {self.key(g, r)} AND {member(g, r)} AND {g.count} > 0 "
            f"AND (first_start = {r}.start_time OR last_start = {r}.start_time)",
            f"DELETE FROM {g.table} WHERE {self.key(g, r)} AND {member(g, r)} "
            f"AND {g.count} <= 0",
        ]


def _body(*statements: str) -> str:
    return "BEGIN " + "; ".join(statements) + "; END"


def sqlite_triggers() -> list[str]:
    d = Dialect("sqlite")
    new_rel, old_rel = relevant("new"), relevant("old")
    out = [
        f"CREATE TRIGGER runs_run_trace_rollup_ai AFTER INSERT ON runs_run "
        f"WHEN {new_rel} {_body(d.trace_add('new'))}",
        f"CREATE TRIGGER runs_run_trace_rollup_ad AFTER DELETE ON runs_run "
        f"WHEN {old_rel} {_body(*d.trace_remove('old'))}",
        # Old contribution out (if it counted), new one in (if it counts).
        f"CREATE TRIGGER runs_run_trace_rollup_au AFTER UPDATE ON runs_run "
        f"WHEN {changed('old', 'new', 'IS NOT')} AND ({old_rel} OR {new_rel}) "
        + _body(*d.trace_remove("old", old_rel), d.trace_add("new", new_rel)),
    ]
    for g in GROUPS:
        name = f"runs_tracerollup_{g.name}"
        out += [
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON {TRACE} "
            f"WHEN {member(g, 'new')} {_body(d.group_add(g, 'new'))}",
            f"CREATE TRIGGER {name}_ad AFTER DELETE ON {TRACE} "
            f"WHEN {member(g, 'old')} "
            + _body(d.group_remove(g, "old"), *d.group_settle(g, "old")),
            # Most updates only add a run's tokens, cost or error in place.
            f"CREATE TRIGGER {name}_as AFTER UPDATE ON {TRACE} "
            f"WHEN {same_place(g, 'old', 'new')} "
            + _body(d.group_move(g, "old", "new")),
            f"CREATE TRIGGER {name}_au AFTER UPDATE ON {TRACE} "
            f"WHEN ({member(g, 'old')} OR {member(g, 'new')}) "
            f"AND NOT {same_place(g, 'old', 'new')} "
            + _body(
                d.group_remove(g, "old"),
                d.group_add(g, "new"),
                *d.group_settle(g, "old"),
            ),
        ]
    return out


def sqlite_drops() -> list[str]:
    names = [f"runs_run_trace_rollup_{t}" for t in ("ai", "ad", "au")]
    for g in GROUPS:
        names += [f"runs_tracerollup_{g.name}_{t}" for t in ("ai", "ad", "as", "au")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _stmts(statements: list[str]) -> str:
    return ";\n".join(statements) + ";"


def pg_triggers() -> list[str]:
    d = Dialect("postgresql")
    out = [
        f"""CREATE FUNCTION agentspy_trace_rollup() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND {relevant("OLD")} THEN
            {_stmts(d.trace_remove("OLD"))}
          END IF;
          IF TG_OP <> 'DELETE' AND {relevant("NEW")} THEN
            {d.trace_add("NEW")};
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER runs_run_trace_rollup_ins AFTER INSERT ON runs_run
        FOR EACH ROW WHEN {relevant("NEW")} EXECUTE FUNCTION agentspy_trace_rollup()""",
        f"""CREATE TRIGGER runs_run_trace_rollup_del AFTER DELETE ON runs_run
        FOR EACH ROW WHEN {relevant("OLD")} EXECUTE FUNCTION agentspy_trace_rollup()""",
        f"""CREATE TRIGGER runs_run_trace_rollup_upd AFTER UPDATE ON runs_run
        FOR EACH ROW WHEN ({changed("OLD", "NEW", "IS DISTINCT FROM")}
          AND ({relevant("OLD")} OR {relevant("NEW")}))
        EXECUTE FUNCTION agentspy_trace_rollup()""",
    ]
    for g in GROUPS:
        function = f"agentspy_{g.name}_rollup"
        out += [
            f"""CREATE FUNCTION {function}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND {same_place(g, "OLD", "NEW")} THEN
                {d.group_move(g, "OLD", "NEW")};
                RETURN NULL;
              END IF;
              IF TG_OP <> 'INSERT' AND {member(g, "OLD")} THEN
                {d.group_remove(g, "OLD")};
              END IF;
              IF TG_OP <> 'DELETE' AND {member(g, "NEW")} THEN
                {d.group_add(g, "NEW")};
              END IF;
              IF TG_OP <> 'INSERT' AND {member(g, "OLD")} THEN
                {_stmts(d.group_settle(g, "OLD"))}
              END IF;
              RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER runs_tracerollup_{g.name} AFTER INSERT OR UPDATE
            OR DELETE ON {TRACE} FOR EACH ROW EXECUTE FUNCTION {function}()""",
        ]
    return out


def pg_drops() -> list[str]:
    out = []
    for g in GROUPS:
        out += [
            f"DROP TRIGGER IF EXISTS runs_tracerollup_{g.name} ON {TRACE}",
            f"DROP FUNCTION IF EXISTS agentspy_{g.name}_rollup()",
        ]
    out += [
        *(
            f"DROP TRIGGER IF EXISTS runs_run_trace_rollup_{t} ON runs_run"
            for t in ("ins", "del", "upd")
        ),
        "DROP FUNCTION IF EXISTS agentspy_trace_rollup()",
    ]
    return out


def triggers(vendor: str) -> list[str]:
    return {"sqlite": sqlite_triggers, "postgresql": pg_triggers}[vendor]()


def drops(vendor: str) -> list[str]:
    return {"sqlite": sqlite_drops, "postgresql": pg_drops}[vendor]()


def backfill_cost(vendor: str) -> list[str]:
    """Set-based: each table's cost columns from one aggregate of the level below.

    Traces first (an upsert: a trace whose only counted runs are priced ones
    had no row before), then each group from the trace rows. Run with the
    triggers dropped, inside the migration's transaction.
    """
    project = (
        "max(r.project_id::text)::uuid"
        if vendor == "postgresql"
        else ("max(r.project_id)")
    )
    out = [
        f"INSERT INTO {TRACE} (trace_id, project_id, thread_id, user_id, status, "
        "error_runs, prompt_tokens, completion_tokens, total_tokens, priced_runs, "
        f"total_cost) SELECT r.trace_id, {project}, '', '', '', 0, 0, 0, 0, "
        "count(r.total_cost), sum(r.total_cost) FROM runs_run r "
        "WHERE r.total_cost IS NOT NULL GROUP BY r.trace_id "
        "ON CONFLICT (trace_id) DO UPDATE SET priced_runs = excluded.priced_runs, "
        "total_cost = excluded.total_cost"
    ]
    for g in GROUPS:
        out.append(
            f"UPDATE {g.table} AS h SET priced_runs = s.n, total_cost = s.cost "
            f"FROM (SELECT t.project_id, t.{g.key}, sum(t.priced_runs) AS n, "
            f"sum(t.total_cost) AS cost FROM {TRACE} t WHERE {member(g, 't')} "
            f"AND t.priced_runs > 0 GROUP BY t.project_id, t.{g.key}) AS s "
            f"WHERE h.project_id = s.project_id AND h.{g.key} = s.{g.key}"
        )
    return out
