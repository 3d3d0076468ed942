"""Thread rollups stay exact under every write; thread pages read them."""

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.ingest.store import update_trace_costs
from runs.models import Feedback, Project, Run
from runs.purge import delete_traces
from runs.query import threads
from runs.thread_models import ThreadRollup, TraceRollup, UserRollup, thread_key
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEYS = ("thread_id", "session_id", "conversation_id")


def thread_of(run):
    meta = (run.extra or {}).get("metadata") or {}
    for key in KEYS:
        value = meta.get(key) if isinstance(meta, dict) else None
        if value not in (None, ""):
            return str(value)[:255]
    return ""


def cost_sum(costs):
    """A recount's cost: the sum of the priced, None when none is (as trace_cost)."""
    priced = [c for c in costs if c is not None]
    # Rounded: the triggers add and subtract floats in another order.
    return round(sum(priced), 10) if priced else None


def rounded(cost):
    return None if cost is None else round(cost, 10)


def expected():
    """Trace and thread rollups recomputed from the stored runs."""
    traces = {}
    for run in Run.objects.all():
        row = traces.setdefault(
            run.trace_id, {"root": None, "errors": 0, "tokens": [0, 0, 0], "costs": []}
        )
        row["errors"] += run.status == "error"
        for i, col in enumerate(("prompt_tokens", "completion_tokens", "total_tokens")):
            row["tokens"][i] += getattr(run, col)
        if run.total_cost is not None:
            row["costs"].append(run.total_cost)
        if run.parent_id is None:
            row["root"] = run
    trace_rows = {}
    for trace_id, row in traces.items():
        root = row["root"]
        if root is None and not (row["errors"] or any(row["tokens"]) or row["costs"]):
            continue
        trace_rows[trace_id] = (
            root.id if root else None,
            thread_of(root) if root else "",
            row["errors"],
            tuple(row["tokens"]),
            len(row["costs"]),
            cost_sum(row["costs"]),
        )
    thread_rows = defaultdict(lambda: [0, [], 0, 0, [0, 0, 0], 0, []])
    for trace_id, (_root, thread, errors, tokens, priced, _cost) in trace_rows.items():
        root = traces[trace_id]["root"]
        if not thread or root.project_id is None:
            continue
        row = thread_rows[(root.project_id, thread)]
        row[0] += 1
        row[1].append(root.start_time)
        row[2] += errors > 0
        row[3] += root.duration_ms or 0
        row[4] = [a + b for a, b in zip(row[4], tokens, strict=True)]
        row[5] += priced
        row[6].extend(traces[trace_id]["costs"])
    threads_out = {
        key: (
            turns,
            min(starts),
            max(starts),
            errors,
            round(lat, 1),
            tuple(tok),
            priced,
            cost_sum(costs),
        )
        for key, (turns, starts, errors, lat, tok, priced, costs) in thread_rows.items()
    }
    return trace_rows, threads_out


def expected_users():
    """User rollups recomputed from the stored runs."""
    errors, tokens, costs = defaultdict(int), defaultdict(int), defaultdict(list)
    for run in Run.objects.all():
        errors[run.trace_id] += run.status == "error"
        tokens[run.trace_id] += run.total_tokens
        if run.total_cost is not None:
            costs[run.trace_id].append(run.total_cost)
    users = defaultdict(lambda: [0, [], 0, 0, []])
    for root in Run.objects.filter(parent__isnull=True, project__isnull=False):
        meta = (root.extra or {}).get("metadata") or {}
        user = meta.get("user_id") if isinstance(meta, dict) else None
        if user in (None, ""):
            continue
        row = users[(root.project_id, str(user)[:255])]
        row[0] += 1
        row[1].append(root.start_time)
        row[2] += errors[root.trace_id] > 0
        row[3] += tokens[root.trace_id]
        row[4].extend(costs[root.trace_id])
    return {
        k: (n, min(s), max(s), e, t, len(c), cost_sum(c))
        for k, (n, s, e, t, c) in users.items()
    }


def actual_users():
    return {
        (u.project_id, u.user_id): (
            u.traces,
            u.first_start,
            u.last_start,
            u.error_traces,
            u.total_tokens,
            u.priced_runs,
            rounded(u.total_cost),
        )
        for u in UserRollup.objects.all()
    }


def actual():
    trace_rows = {
        t.trace_id: (
            t.root_id,
            t.thread_id,
            t.error_runs,
            (t.prompt_tokens, t.completion_tokens, t.total_tokens),
            t.priced_runs,
            rounded(t.total_cost),
        )
        for t in TraceRollup.objects.all()
    }
    thread_rows = {
        (h.project_id, h.thread_id): (
            h.turns,
            h.first_start,
            h.last_start,
            h.error_turns,
            round(h.latency_ms, 1),
            (h.prompt_tokens, h.completion_tokens, h.total_tokens),
            h.priced_runs,
            rounded(h.total_cost),
        )
        for h in ThreadRollup.objects.all()
    }
    return trace_rows, thread_rows


def post(run_id, *, trace=None, parent=None, start=T0, thread=None, **values):
    body = {
        "id": str(run_id),
        "name": "r",
        "run_type": "llm" if parent else "chain",
        "start_time": start.isoformat(),
        "session_name": values.pop("project", "p"),
        "inputs": {"q": "hi"},
        **values,
    }
    if trace:
        body["trace_id"] = str(trace)
    if parent:
        body["parent_run_id"] = str(parent)
    if thread is not None:
        body.setdefault("extra", {}).setdefault("metadata", {})["thread_id"] = thread
    return body


def send(*ops):
    batch = Batch()
    for i, (kind, body) in enumerate(ops):
        batch.add_run(kind, body, item=f"{kind}.{i}")
    result = ingest(batch)
    assert not result.rejected, result.rejected
    return result


def usage(tokens):
    return {"usage_metadata": {"input_tokens": tokens, "output_tokens": 1}}


def test_a_conversation_rolls_up_its_turns_tokens_errors_and_latency():
    root_a, root_b, tool = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    send(
        (
            "post",
            post(
                root_a, thread="t-1", end_time=(T0 + timedelta(seconds=2)).isoformat()
            ),
        ),
        ("post", post(root_b, start=T0 + timedelta(minutes=1), thread="t-1")),
        (
            "post",
            post(
                tool,
                trace=root_b,
                parent=root_b,
                start=T0 + timedelta(minutes=1),
                error="tool failed",
                outputs=usage(10),
                end_time=(T0 + timedelta(minutes=1, seconds=1)).isoformat(),
            ),
        ),
    )
    send(
        (
            "patch",
            {
                "id": str(root_b),
                "end_time": (T0 + timedelta(minutes=1, seconds=3)).isoformat(),
            },
        )
    )
    thread = ThreadRollup.objects.get()
    assert (thread.thread_id, thread.turns, thread.error_turns) == ("t-1", 2, 1)
    assert (thread.prompt_tokens, thread.completion_tokens, thread.total_tokens) == (
        10,
        1,
        11,
    )
    assert thread.latency_ms == pytest.approx(5000.0)
    assert (thread.first_start, thread.last_start) == (T0, T0 + timedelta(minutes=1))
    assert actual() == expected()


def test_the_thread_key_is_thread_id_then_session_id_then_conversation_id():
    ids = [uuid.uuid4() for _ in range(4)]
    send(
        (
            "post",
            post(ids[0], extra={"metadata": {"thread_id": "", "session_id": "s"}}),
        ),
        (
            "post",
            post(
                ids[1], extra={"metadata": {"conversation_id": "c", "session_id": "s"}}
            ),
        ),
        ("post", post(ids[2], extra={"metadata": {"conversation_id": "c"}})),
        (
            "post",
            post(ids[3], extra={"metadata": {"thread_id": 42, "session_id": "s"}}),
        ),
    )
    assert sorted(ThreadRollup.objects.values_list("thread_id", "turns")) == [
        ("42", 1),
        ("c", 1),
        ("s", 2),
    ]


def test_a_child_before_its_root_and_a_replay_count_once():
    root, child = uuid.uuid4(), uuid.uuid4()
    child_body = post(child, trace=root, parent=root, outputs=usage(7))
    send(("post", child_body))
    assert TraceRollup.objects.get().root_id is None
    assert not ThreadRollup.objects.exists()
    assert not UserRollup.objects.exists()
    send(("post", post(root, thread="t")), ("post", child_body))
    send(("post", post(root, thread="t")), ("post", child_body))
    assert ThreadRollup.objects.get().total_tokens == 8
    assert actual() == expected()


def test_a_root_moved_to_another_thread_leaves_the_first():
    first, second = uuid.uuid4(), uuid.uuid4()
    send(
        ("post", post(first, thread="a")),
        ("post", post(second, start=T0 + timedelta(hours=1), thread="a")),
    )
    send(("patch", {"id": str(second), "extra": {"metadata": {"thread_id": "b"}}}))
    rows = dict(ThreadRollup.objects.values_list("thread_id", "last_start"))
    assert rows == {"a": T0, "b": T0 + timedelta(hours=1)}
    assert actual() == expected()


def test_deletes_purges_and_project_deletion_keep_the_rollups_exact():
    project = ProjectFactory(name="p")
    roots = []
    for i in range(6):
        root = RunFactory(
            project=project,
            start_time=T0 + timedelta(minutes=i),
            extra={"metadata": {"thread_id": f"t{i % 2}", "user_id": f"u{i % 3}"}},
        )
        RunFactory(
            parent=root,
            project=project,
            trace_id=root.trace_id,
            status="error",
            total_tokens=3,
        )
        roots.append(root)
    assert actual() == expected()
    roots[5].delete()  # the last turn of t1: its last activity moves back
    assert ThreadRollup.objects.get(thread_id="t1").last_start == T0 + timedelta(
        minutes=3
    )
    delete_traces([roots[0].trace_id, roots[2].trace_id])
    assert actual() == expected()
    assert actual_users() == expected_users()
    assert sorted(u for _, u in actual_users()) == ["u0", "u1"]
    Project.objects.get(name="p").delete()
    assert not TraceRollup.objects.exists()
    assert not ThreadRollup.objects.exists()


def priced_model(body, model):
    """An LLM call of a model with a list price, or of one with none."""
    metadata = body.setdefault("extra", {}).setdefault("metadata", {})
    metadata.update(ls_provider="openai", ls_model_name=model)


def random_cost(rng, body):
    """Priced, unpriced or client-sent cost (with or without tokens), or none."""
    kind = rng.choice(["priced", "unpriced", "client", "client-free", "plain"])
    if kind in ("priced", "unpriced"):
        priced_model(body, "gpt-4o" if kind == "priced" else "house-model-7")
        body["outputs"] = usage(rng.randint(1, 9))
    elif kind == "client":
        body["total_cost"] = rng.choice([0.0, 0.25, 1.5]) * rng.randint(1, 4)
        if rng.random() < 0.5:
            body["outputs"] = usage(rng.randint(1, 9))
    elif kind == "client-free":
        body["prompt_cost"] = body["completion_cost"] = 0.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_writes_leave_the_rollups_equal_to_a_recount(seed):
    rng = random.Random(seed)
    runs = []  # (id, trace, parent)
    for step in range(80):
        action = rng.random()
        if action < 0.3 or not runs:
            rid = uuid.uuid4()
            runs.append((rid, rid, None))
            body = post(
                rid,
                start=T0 + timedelta(seconds=step),
                thread=rng.choice(["a", "b", "c", None]),
            )
            if rng.random() < 0.6:
                metadata = body.setdefault("extra", {}).setdefault("metadata", {})
                metadata["user_id"] = rng.choice(["u1", "u2", "u3"])
            send(("post", body))
        elif action < 0.6:
            parent = rng.choice(runs)
            rid = uuid.uuid4()
            runs.append((rid, parent[1], parent[0]))
            body = post(
                rid,
                trace=parent[1],
                parent=parent[0],
                start=T0 + timedelta(seconds=step),
            )
            random_cost(rng, body)
            if rng.random() < 0.3:
                body["error"] = "boom"
            if rng.random() < 0.2:
                # The patch first: stored alone, then moved into its trace.
                send(("patch", {"id": str(rid), "total_cost": 0.5}))
            send(("post", body))
        elif action < 0.78:
            rid = rng.choice(runs)[0]
            patch = {
                "id": str(rid),
                "end_time": (
                    T0 + timedelta(seconds=step, milliseconds=250)
                ).isoformat(),
            }
            if rng.random() < 0.3:
                patch["error"] = "late"
            if rng.random() < 0.3:
                patch["extra"] = {
                    "metadata": {
                        "session_id": rng.choice(["a", "d"]),
                        "user_id": rng.choice(["u1", "u2", ""]),
                    }
                }
            if rng.random() < 0.3:
                patch["total_cost"] = rng.choice([0.0, 2.0, 0.125])
            send(("patch", patch))
        elif action < 0.86:
            # A reprice (or a price removed): costs changed in place.
            rid = rng.choice(runs)[0]
            cost = rng.choice([None, 0.0, 0.75, 3.0])
            Run.objects.filter(id=rid, parent__isnull=False).update(total_cost=cost)
        elif action < 0.94:
            victim = rng.choice(runs)
            Run.objects.filter(id=victim[0]).delete()
            runs.remove(victim)
        else:
            trace = rng.choice(runs)[1]
            delete_traces([trace])
            runs = [r for r in runs if r[1] != trace]
    assert actual() == expected()
    assert actual_users() == expected_users()
    costs = set(TraceRollup.objects.values_list("total_cost", flat=True))
    assert None in costs and len(costs) > 1  # priced and unpriced traces alike
    # The same sum as a root's trace_cost (which ORM writes leave stale).
    update_trace_costs({trace for _, trace, _ in runs})
    for root in Run.objects.filter(parent__isnull=True):
        rollup = TraceRollup.objects.get(trace_id=root.trace_id)
        assert rounded(rollup.total_cost) == rounded(root.trace_cost)


def _thread(project, name, turns, start, error=False):
    for i in range(turns):
        RunFactory(
            project=project,
            start_time=start + timedelta(seconds=i),
            status="error" if error else "success",
            extra={"metadata": {"thread_id": name}},
        )


def test_threads_page_latest_first_with_keyset_cursor_and_filters():
    project = ProjectFactory(name="p")
    for i in range(5):
        _thread(project, f"conv-{i}", i + 1, T0 + timedelta(minutes=i), error=i == 2)
    first = threads.list_threads(project.id, limit=2)
    assert [t.thread_id for t in first.items] == ["conv-4", "conv-3"]
    second = threads.list_threads(project.id, limit=2, cursor=first.next_cursor)
    assert [t.thread_id for t in second.items] == ["conv-2", "conv-1"]
    last = threads.list_threads(project.id, limit=2, cursor=second.next_cursor)
    assert ([t.thread_id for t in last.items], last.next_cursor) == (["conv-0"], None)
    where = threads.ThreadFilter(errors=True)
    assert [
        t.thread_id for t in threads.list_threads(project.id, where=where).items
    ] == ["conv-2"]
    where = threads.ThreadFilter(search="V-1", min_turns=2)
    assert [
        t.thread_id for t in threads.list_threads(project.id, where=where).items
    ] == ["conv-1"]
    other = ProjectFactory(name="other")
    assert threads.list_threads(other.id).items == []


def test_turns_come_oldest_first_in_pages_numbered_from_one():
    project = ProjectFactory(name="p")
    _thread(project, "c", 5, T0)
    page = threads.list_turns(project.id, "c", limit=3)
    assert [t.start_time for t in page.items] == [
        T0 + timedelta(seconds=i) for i in range(3)
    ]
    rest = threads.list_turns(project.id, "c", limit=3, cursor=page.next_cursor)
    assert (len(rest.items), rest.next_cursor) == (2, None)
    assert threads.turn_numbers(project.id, rest.items) == [4, 5]


@pytest.mark.parametrize("cursor", ["", "!!!", "WzFd", "bm90IGpzb24", "WyJ4IiwgMV0"])
def test_a_cursor_not_handed_out_is_refused(cursor):
    project = ProjectFactory(name="p")
    if not cursor:
        assert threads.list_threads(project.id, cursor=cursor).items == []
        return
    with pytest.raises(threads.BadCursor):
        threads.list_threads(project.id, cursor=cursor)


def test_feedback_is_averaged_per_thread_from_trace_and_root_rows():
    project = ProjectFactory(name="p")
    _thread(project, "c", 2, T0)
    turns = list(threads.turns_of(project.id, "c").order_by("start_time"))
    FeedbackFactory(trace_id=turns[0].trace_id, key="thumbs", score=1.0, comment="good")
    FeedbackFactory(run_id=turns[1].root_id, key="thumbs", score=0.0)
    FeedbackFactory(run_id=turns[1].root_id, key="label", score=None, value="ok")
    FeedbackFactory(run_id=uuid.uuid4(), key="thumbs", score=0.0)  # another trace
    stats = threads.feedback_by_thread(project.id, ["c"])["c"]
    assert stats["thumbs"].as_dict() == {
        "n": 2,
        "avg": 0.5,
        "min": 0.0,
        "max": 1.0,
        "values": {},
        "comments": ["good"],
    }
    assert stats["label"].as_dict()["values"] == {"ok": 1}
    assert Feedback.objects.count() == 4


def test_ingest_locks_the_threads_it_touches_on_postgresql():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from runs.ingest import thread_locks

    root = uuid.uuid4()
    send(("post", post(root, thread="t")))
    rows = [
        {"trace_id": root, "parent_run_id": uuid.uuid4()},
        {"extra": {"metadata": {"session_id": 5}}},
    ]
    assert thread_key(rows[1]["extra"]) == "5"
    assert thread_key({"metadata": ["x"]}) == thread_key(None) == ""
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        thread_locks.lock_threads(rows)
    locked = [q["sql"] for q in queries if "pg_advisory_xact_lock" in q["sql"]]
    assert len(locked) == (1 if connection.vendor == "postgresql" else 0)


def test_seed_runs_spreads_traces_over_threads_and_adds_a_long_one():
    from django.core.management import call_command

    call_command("seed_runs", runs=300, threads=4, long_thread=3, seed=7, stdout=None)
    traces = Run.objects.filter(parent__isnull=True).count()
    long = ThreadRollup.objects.get(thread_id="long-thread")
    assert long.turns == 3
    names = set(ThreadRollup.objects.values_list("thread_id", flat=True))
    assert names <= {"long-thread", "thread-0", "thread-1", "thread-2", "thread-3"}
    assert sum(ThreadRollup.objects.values_list("turns", flat=True)) == traces
    assert actual() == expected()
