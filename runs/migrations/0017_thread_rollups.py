"""Trace and thread rollups (``runs.thread_models``), kept by triggers.

Triggers on runs_run keep one runs_tracerollup row per trace: the root's
fields (thread and user keys read from its metadata) and the sums of every
run's errors and tokens. Triggers on runs_tracerollup keep one
runs_threadrollup row per (project, thread). Each change removes the old row's
contribution and adds the new one, so replays, patches, a run moving trace
(a patch stored before its create), deletes and purges all stay exact whatever
wrote them. A child run without tokens nor error contributes nothing and
fires nothing (the triggers' WHEN clauses), which keeps ingestion's extra work
to the roots and the LLM calls.

Unlike the hourly rollups these rows are updated in place (a page of threads
sorted by last activity must be an index read), so on PostgreSQL two
transactions touching one trace or thread wait for each other; the ingest
service upserts runs in trace order to keep those waits free of cycles.
The tables are new: no table rebuild of runs_run, its triggers are kept.
"""

from django.db import migrations, models

TRACE = "runs_tracerollup"
THREAD = "runs_threadrollup"
SUMS = ("prompt_tokens", "completion_tokens", "total_tokens")
TRACE_COLS = (
    "trace_id, project_id, root_id, thread_id, user_id, start_time, end_time, "
    "latency_ms, status, error_runs, prompt_tokens, completion_tokens, total_tokens"
)
THREAD_COLS = (
    "project_id, thread_id, turns, first_start, last_start, latency_ms, "
    "error_turns, prompt_tokens, completion_tokens, total_tokens"
)
# Run columns whose change can change a rollup.
WATCHED = (
    "trace_id", "parent_run_id", "project_id", "status", "start_time", "end_time",
    "extra", *SUMS,
)
THREAD_KEYS = ("thread_id", "session_id", "conversation_id")


def relevant(r):
    """Runs that count: roots, failed runs and runs with tokens."""
    tokens = " OR ".join(f"{r}.{c} <> 0" for c in SUMS)
    return f"({r}.parent_run_id IS NULL OR {r}.status = 'error' OR {tokens})"


def changed(old, new, op):
    return "(" + " OR ".join(f"{old}.{c} {op} {new}.{c}" for c in WATCHED) + ")"


def same_turn(old, new):
    """An update that keeps a turn in its thread at its place: only sums moved."""
    return (
        f"({member(old)} AND {member(new)} AND {old}.project_id = {new}.project_id "
        f"AND {old}.thread_id = {new}.thread_id AND {old}.start_time = {new}.start_time)"
    )


def member(r):
    """Trace rows that are a turn of a thread."""
    return (
        f"({r}.root_id IS NOT NULL AND {r}.thread_id <> '' "
        f"AND {r}.project_id IS NOT NULL)"
    )


class Dialect:
    """The few spellings SQLite and PostgreSQL disagree on."""

    def __init__(self, vendor):
        self.pg = vendor == "postgresql"
        self.least = "least" if self.pg else "min"
        self.greatest = "greatest" if self.pg else "max"

    def meta(self, r, key):
        if self.pg:
            return f"NULLIF({r}.extra -> 'metadata' ->> '{key}', '')"
        return f"NULLIF(CAST(json_extract({r}.extra, '$.metadata.{key}') AS TEXT), '')"

    def thread(self, r):
        keys = ", ".join(self.meta(r, k) for k in THREAD_KEYS)
        return f"substr(coalesce({keys}, ''), 1, 255)"

    def user(self, r):
        return f"substr(coalesce({self.meta(r, 'user_id')}, ''), 1, 255)"

    def latency(self, r):
        if self.pg:
            return f"extract(epoch FROM ({r}.end_time - {r}.start_time)) * 1000"
        # As migration 0005: whole seconds plus the stored fraction, exact.
        return (
            f"((strftime('%s', {r}.end_time) - strftime('%s', {r}.start_time)) * 1000.0"
            f" + (CAST(substr({r}.end_time, 20) AS REAL)"
            f" - CAST(substr({r}.start_time, 20) AS REAL)) * 1000.0)"
        )

    def target(self, table, alias):
        # SQLite accepts no alias on an INSERT inside a trigger.
        return f"{table} AS {alias}" if self.pg else table

    def alias(self, table, alias):
        return f"{alias}." if self.pg else f"{table}."

    def is_error(self, cond):
        return f"(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    # -- runs_run -> runs_tracerollup ------------------------------------
    def trace_add(self, r):
        root = f"{r}.parent_run_id IS NULL"

        def if_root(value, other="NULL"):
            return f"CASE WHEN {root} THEN {value} ELSE {other} END"

        latency = (
            f"CASE WHEN {root} AND {r}.end_time IS NOT NULL "
            f"THEN {self.latency(r)} END"
        )
        values = (
            f"{r}.trace_id, {r}.project_id, {if_root(f'{r}.id')}, "
            f"{if_root(self.thread(r), "''")}, {if_root(self.user(r), "''")}, "
            f"{if_root(f'{r}.start_time')}, {if_root(f'{r}.end_time')}, {latency}, "
            f"{if_root(f'{r}.status', "''")}, {self.is_error(f"{r}.status = 'error'")}, "
            + ", ".join(f"{r}.{c}" for c in SUMS)
        )
        from_root = ("root_id", "thread_id", "user_id", "start_time", "end_time",
                     "latency_ms", "status")
        sets = [
            "project_id = CASE WHEN excluded.root_id IS NOT NULL "
            "THEN excluded.project_id ELSE coalesce(t.project_id, excluded.project_id) END",
            *(
                f"{c} = CASE WHEN excluded.root_id IS NOT NULL "
                f"THEN excluded.{c} ELSE t.{c} END"
                for c in from_root
            ),
            *(f"{c} = t.{c} + excluded.{c}" for c in ("error_runs", *SUMS)),
        ]
        where = "" if self.pg else " WHERE true"  # SQLite: SELECT vs ON CONFLICT
        return (
            f"INSERT INTO {self.target(TRACE, 't')} ({TRACE_COLS}) SELECT {values}"
            f"{where} ON CONFLICT (trace_id) DO UPDATE SET "
            + ", ".join(sets).replace("t.", self.alias(TRACE, "t"))
        )

    def trace_remove(self, r):
        mine = f"root_id = {r}.id"
        cleared = {
            "root_id": "NULL", "thread_id": "''", "user_id": "''",
            "start_time": "NULL", "end_time": "NULL", "latency_ms": "NULL",
            "status": "''",
        }
        sets = [
            f"{c} = CASE WHEN {mine} THEN {v} ELSE {c} END" for c, v in cleared.items()
        ]
        sets.append(
            f"error_runs = error_runs - {self.is_error(f"{r}.status = 'error'")}"
        )
        sets.extend(f"{c} = {c} - {r}.{c}" for c in SUMS)
        empty = " AND ".join(f"{c} = 0" for c in ("error_runs", *SUMS))
        return [
            f"UPDATE {TRACE} SET {', '.join(sets)} WHERE trace_id = {r}.trace_id",
            f"DELETE FROM {TRACE} WHERE trace_id = {r}.trace_id "
            f"AND root_id IS NULL AND {empty}",
        ]

    # -- runs_tracerollup -> runs_threadrollup ---------------------------
    def key(self, r):
        return f"project_id = {r}.project_id AND thread_id = {r}.thread_id"

    def thread_add(self, r):
        values = (
            f"{r}.project_id, {r}.thread_id, 1, {r}.start_time, {r}.start_time, "
            f"coalesce({r}.latency_ms, 0), {self.is_error(f'{r}.error_runs > 0')}, "
            + ", ".join(f"{r}.{c}" for c in SUMS)
        )
        sets = [
            "turns = h.turns + 1",
            f"first_start = {self.least}(h.first_start, excluded.first_start)",
            f"last_start = {self.greatest}(h.last_start, excluded.last_start)",
            *(
                f"{c} = h.{c} + excluded.{c}"
                for c in ("latency_ms", "error_turns", *SUMS)
            ),
        ]
        return (
            f"INSERT INTO {self.target(THREAD, 'h')} ({THREAD_COLS}) SELECT {values} "
            f"WHERE {member(r)} ON CONFLICT (project_id, thread_id) DO UPDATE SET "
            + ", ".join(sets).replace("h.", self.alias(THREAD, "h"))
        )

    def thread_remove(self, r):
        sets = [
            "turns = turns - 1",
            f"latency_ms = latency_ms - coalesce({r}.latency_ms, 0)",
            f"error_turns = error_turns - {self.is_error(f'{r}.error_runs > 0')}",
            *(f"{c} = {c} - {r}.{c}" for c in SUMS),
        ]
        return f"UPDATE {THREAD} SET {', '.join(sets)} WHERE {self.key(r)} AND {member(r)}"

    def thread_shift(self, old, new):
        """The sums of a turn that stayed in place: one row updated by deltas."""
        sets = [
            f"latency_ms = latency_ms - coalesce({old}.latency_ms, 0) "
            f"+ coalesce({new}.latency_ms, 0)",
            f"error_turns = error_turns - {self.is_error(f'{old}.error_runs > 0')} "
            f"+ {self.is_error(f'{new}.error_runs > 0')}",
            *(f"{c} = {c} - {old}.{c} + {new}.{c}" for c in SUMS),
        ]
        return f"UPDATE {THREAD} SET {', '.join(sets)} WHERE {self.key(new)}"

    def thread_settle(self, r):
        """After a turn left: the ends recomputed (two index seeks), empty gone."""
        turns = (
            f"FROM {TRACE} x WHERE x.project_id = {r}.project_id "
            f"AND x.thread_id = {r}.thread_id AND NOT (x.thread_id = '')"
        )
        return [
            f"UPDATE {THREAD} SET first_start = (SELECT min(x.start_time) {turns}), "
            f"last_start = (SELECT max(x.start_time) {turns}) "
            f"WHERE {self.key(r)} AND {member(r)} AND turns > 0 "
            f"AND (first_start = {r}.start_time OR last_start = {r}.start_time)",
            f"DELETE FROM {THREAD} WHERE {self.key(r)} AND {member(r)} AND turns <= 0",
        ]


def sqlite_forward():
    d = Dialect("sqlite")

    def body(*statements):
        return "BEGIN " + "; ".join(statements) + "; END"

    new_rel, old_rel = relevant("new"), relevant("old")
    return [
        f"CREATE TRIGGER runs_run_trace_rollup_ai AFTER INSERT ON runs_run "
        f"WHEN {new_rel} {body(d.trace_add('new'))}",
        f"CREATE TRIGGER runs_run_trace_rollup_ad AFTER DELETE ON runs_run "
        f"WHEN {old_rel} {body(*d.trace_remove('old'))}",
        # Old contribution out (if it counted), new one in (if it counts).
        f"CREATE TRIGGER runs_run_trace_rollup_au AFTER UPDATE ON runs_run "
        f"WHEN {changed('old', 'new', 'IS NOT')} AND ({old_rel} OR {new_rel}) "
        + body(
            *(s.replace(" WHERE trace_id", f" WHERE {old_rel} AND trace_id")
              for s in d.trace_remove("old")),
            d.trace_add("new").replace(" WHERE true", f" WHERE {new_rel}"),
        ),
        f"CREATE TRIGGER runs_tracerollup_thread_ai AFTER INSERT ON {TRACE} "
        f"WHEN {member('new')} {body(d.thread_add('new'))}",
        f"CREATE TRIGGER runs_tracerollup_thread_ad AFTER DELETE ON {TRACE} "
        f"WHEN {member('old')} "
        + body(d.thread_remove("old"), *d.thread_settle("old")),
        # Most updates only add a run's tokens or error to a turn in place.
        f"CREATE TRIGGER runs_tracerollup_thread_as AFTER UPDATE ON {TRACE} "
        f"WHEN {same_turn('old', 'new')} {body(d.thread_shift('old', 'new'))}",
        f"CREATE TRIGGER runs_tracerollup_thread_au AFTER UPDATE ON {TRACE} "
        f"WHEN ({member('old')} OR {member('new')}) "
        f"AND NOT {same_turn('old', 'new')} "
        + body(d.thread_remove("old"), d.thread_add("new"), *d.thread_settle("old")),
    ]


SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "runs_run_trace_rollup_ai", "runs_run_trace_rollup_ad",
        "runs_run_trace_rollup_au", "runs_tracerollup_thread_ai",
        "runs_tracerollup_thread_ad", "runs_tracerollup_thread_au",
        "runs_tracerollup_thread_as",
    )
]


def pg_forward():
    d = Dialect("postgresql")

    def stmts(statements):
        return ";\n".join(statements) + ";"

    return [
        f"""CREATE FUNCTION agentspy_trace_rollup() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND {relevant('OLD')} THEN
            {stmts(d.trace_remove('OLD'))}
          END IF;
          IF TG_OP <> 'DELETE' AND {relevant('NEW')} THEN
            {d.trace_add('NEW')};
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER runs_run_trace_rollup_ins AFTER INSERT ON runs_run
        FOR EACH ROW WHEN {relevant('NEW')} EXECUTE FUNCTION agentspy_trace_rollup()""",
        f"""CREATE TRIGGER runs_run_trace_rollup_del AFTER DELETE ON runs_run
        FOR EACH ROW WHEN {relevant('OLD')} EXECUTE FUNCTION agentspy_trace_rollup()""",
        f"""CREATE TRIGGER runs_run_trace_rollup_upd AFTER UPDATE ON runs_run
        FOR EACH ROW WHEN ({changed('OLD', 'NEW', 'IS DISTINCT FROM')}
          AND ({relevant('OLD')} OR {relevant('NEW')}))
        EXECUTE FUNCTION agentspy_trace_rollup()""",
        f"""CREATE FUNCTION agentspy_thread_rollup() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND {same_turn('OLD', 'NEW')} THEN
            {d.thread_shift('OLD', 'NEW')};
            RETURN NULL;
          END IF;
          IF TG_OP <> 'INSERT' AND {member('OLD')} THEN
            {d.thread_remove('OLD')};
          END IF;
          IF TG_OP <> 'DELETE' AND {member('NEW')} THEN
            {d.thread_add('NEW')};
          END IF;
          IF TG_OP <> 'INSERT' AND {member('OLD')} THEN
            {stmts(d.thread_settle('OLD'))}
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER runs_tracerollup_thread AFTER INSERT OR UPDATE OR DELETE
        ON {TRACE} FOR EACH ROW EXECUTE FUNCTION agentspy_thread_rollup()""",
    ]


PG_BACKWARD = [
    f"DROP TRIGGER IF EXISTS runs_tracerollup_thread ON {TRACE}",
    "DROP FUNCTION IF EXISTS agentspy_thread_rollup()",
    *(f"DROP TRIGGER IF EXISTS runs_run_trace_rollup_{t} ON runs_run"
      for t in ("ins", "del", "upd")),
    "DROP FUNCTION IF EXISTS agentspy_trace_rollup()",
]


def backfill(vendor):
    """Rows for the runs stored before the triggers (in the migration's transaction)."""
    d = Dialect(vendor)
    sums = ", ".join(f"sum(r.{c})" for c in SUMS)
    root_sets = {
        "root_id": "r.id",
        "project_id": "r.project_id",
        "thread_id": d.thread("r"),
        "user_id": d.user("r"),
        "start_time": "r.start_time",
        "end_time": "r.end_time",
        "latency_ms": f"CASE WHEN r.end_time IS NOT NULL THEN {d.latency('r')} END",
        "status": "r.status",
    }
    empty = " AND ".join(f"{c} = 0" for c in ("error_runs", *SUMS))
    return [
        f"INSERT INTO {TRACE} (trace_id, project_id, thread_id, user_id, status, "
        f"error_runs, prompt_tokens, completion_tokens, total_tokens) "
        f"SELECT r.trace_id, max(r.project_id::text)::uuid, '', '', '', "
        f"sum({d.is_error("r.status = 'error'")}), {sums} "
        f"FROM runs_run r GROUP BY r.trace_id"
        if d.pg
        else f"INSERT INTO {TRACE} (trace_id, project_id, thread_id, user_id, "
        f"status, error_runs, prompt_tokens, completion_tokens, total_tokens) "
        f"SELECT r.trace_id, max(r.project_id), '', '', '', "
        f"sum({d.is_error("r.status = 'error'")}), {sums} "
        f"FROM runs_run r GROUP BY r.trace_id",
        f"UPDATE {TRACE} AS t SET "
        + ", ".join(f"{c} = {v}" for c, v in root_sets.items())
        + " FROM runs_run r WHERE r.trace_id = t.trace_id AND r.parent_run_id IS NULL",
        f"DELETE FROM {TRACE} WHERE root_id IS NULL AND {empty}",
        f"INSERT INTO {THREAD} ({THREAD_COLS}) SELECT t.project_id, t.thread_id, "
        f"count(*), min(t.start_time), max(t.start_time), "
        f"sum(coalesce(t.latency_ms, 0)), sum({d.is_error('t.error_runs > 0')}), "
        + ", ".join(f"sum(t.{c})" for c in SUMS)
        + f" FROM {TRACE} t WHERE {member('t')} GROUP BY t.project_id, t.thread_id",
    ]


def _execute(schema_editor, statements):
    # A cursor without parameters: "%s" in strftime() must reach SQLite as is.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    triggers = {"sqlite": sqlite_forward, "postgresql": pg_forward}.get(vendor)
    if triggers is not None:
        _execute(schema_editor, [*backfill(vendor), *triggers()])


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _execute(
        schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(vendor, [])
    )


class Migration(migrations.Migration):
    dependencies = [("runs", "0016_filter_language_indexes")]

    operations = [
        migrations.CreateModel(
            name="TraceRollup",
            fields=[
                ("trace_id", models.UUIDField(primary_key=True, serialize=False)),
                ("project_id", models.UUIDField(blank=True, null=True)),
                ("root_id", models.UUIDField(blank=True, null=True)),
                ("thread_id", models.CharField(blank=True, default="", max_length=255)),
                ("user_id", models.CharField(blank=True, default="", max_length=255)),
                ("start_time", models.DateTimeField(blank=True, null=True)),
                ("end_time", models.DateTimeField(blank=True, null=True)),
                ("latency_ms", models.FloatField(blank=True, null=True)),
                ("status", models.CharField(blank=True, default="", max_length=16)),
                ("error_runs", models.IntegerField(default=0)),
                ("prompt_tokens", models.BigIntegerField(default=0)),
                ("completion_tokens", models.BigIntegerField(default=0)),
                ("total_tokens", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("thread_id", ""), _negated=True),
                        fields=["project_id", "thread_id", "start_time"],
                        name="trace_rollup_thread",
                    ),
                    models.Index(
                        condition=models.Q(("user_id", ""), _negated=True),
                        fields=["project_id", "user_id", "start_time"],
                        name="trace_rollup_user",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ThreadRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("project_id", models.UUIDField()),
                ("thread_id", models.CharField(max_length=255)),
                ("turns", models.IntegerField(default=0)),
                ("first_start", models.DateTimeField()),
                ("last_start", models.DateTimeField()),
                ("latency_ms", models.FloatField(default=0)),
                ("error_turns", models.IntegerField(default=0)),
                ("prompt_tokens", models.BigIntegerField(default=0)),
                ("completion_tokens", models.BigIntegerField(default=0)),
                ("total_tokens", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["project_id", "-last_start", "-id"],
                        name="thread_rollup_last",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project_id", "thread_id"), name="thread_rollup_key"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
