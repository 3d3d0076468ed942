"""Cost in the trace, thread and user rollups: triggers, backfill, pages, API."""

import re
import uuid
from datetime import timedelta

import orjson
import pytest
from django.db import connection

from runs import rollup_triggers
from runs.models import Run
from runs.purge import delete_traces
from runs.thread_models import ThreadRollup, TraceRollup, UserRollup
from tests.test_query_threads import T0, post, send, usage

pytestmark = pytest.mark.django_db

UNPRICED_HOVER = 'title="No run was priced'


def root(rid, *, thread="t", user="u", start=T0, **values):
    body = post(rid, start=start, **values)
    metadata = body.setdefault("extra", {}).setdefault("metadata", {})
    metadata.update(thread_id=thread, user_id=user)
    return body


def llm(rid, parent, *, model=None, tokens=None, **values):
    """An LLM call under ``parent``: of ``model`` (priced or not), or client-costed."""
    body = post(rid, trace=parent, parent=parent, start=T0, **values)
    if model:
        body["extra"] = {"metadata": {"ls_provider": "openai", "ls_model_name": model}}
    if tokens:
        body["outputs"] = usage(tokens)
    return body


def costs(trace_id=None, thread="t", user="u"):
    """(priced runs, cost) of the trace, the thread and the user."""
    out = []
    if trace_id is not None:
        row = TraceRollup.objects.filter(trace_id=trace_id).first()
        out.append((row.priced_runs, row.total_cost) if row else None)
    for model, key in (
        (ThreadRollup, {"thread_id": thread}),
        (UserRollup, {"user_id": user}),
    ):
        row = model.objects.filter(**key).first()
        out.append((row.priced_runs, row.total_cost) if row else None)
    return out


def test_priced_and_client_sent_costs_sum_into_the_trace_thread_and_user():
    top, priced, sent, unknown = (uuid.uuid4() for _ in range(4))
    send(
        ("post", root(top)),
        ("post", llm(priced, top, model="gpt-4o", tokens=9)),
        ("post", llm(sent, top, tokens=3, total_cost=0.25)),
        ("post", llm(unknown, top, model="house-model-7", tokens=5)),
    )
    gpt = Run.objects.get(id=priced).total_cost
    assert gpt == pytest.approx(9 * 2.5e-6 + 1 * 10e-6)  # gpt-4o: $2.50 in, $10 out
    assert Run.objects.get(id=unknown).total_cost is None
    expected = (2, pytest.approx(gpt + 0.25))
    assert costs(top) == [expected, expected, expected]
    assert Run.objects.get(id=top).trace_cost == pytest.approx(gpt + 0.25)


def test_only_unpriced_runs_leave_the_cost_unknown_and_a_free_run_makes_it_zero():
    top = uuid.uuid4()
    send(("post", root(top)), ("post", llm(uuid.uuid4(), top, model="x-7", tokens=4)))
    assert costs(top) == [(0, None)] * 3
    send(("post", llm(uuid.uuid4(), top, tokens=2, total_cost=0.0)))
    assert costs(top) == [(1, 0.0)] * 3


def test_a_cost_alone_makes_a_run_count_and_a_patch_can_bring_it():
    top, costed, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    send(
        ("post", root(top)),
        ("post", llm(costed, top, total_cost=0.5)),  # no tokens, no error
        ("post", llm(later, top)),
    )
    assert costs(top) == [(1, 0.5)] * 3
    send(("patch", {"id": str(later), "total_cost": 1.25}))
    assert costs(top) == [(2, 1.75)] * 3


def test_deleting_a_priced_run_subtracts_it_and_the_last_one_makes_it_unknown():
    top, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    send(
        ("post", root(top)),
        ("post", llm(first, top, tokens=1, total_cost=0.5)),
        ("post", llm(second, top, tokens=1, total_cost=2.0)),
    )
    Run.objects.filter(id=first).delete()
    assert costs(top) == [(1, 2.0)] * 3
    Run.objects.filter(id=second).delete()
    assert costs(top) == [(0, None)] * 3


def test_a_reprice_in_place_moves_every_level():
    top, call = uuid.uuid4(), uuid.uuid4()
    send(("post", root(top)), ("post", llm(call, top, model="gpt-4o", tokens=2)))
    Run.objects.filter(id=call).update(total_cost=3.0)
    assert costs(top) == [(1, 3.0)] * 3
    Run.objects.filter(id=call).update(total_cost=None)  # the price was removed
    assert costs(top) == [(0, None)] * 3


def test_a_turn_moved_to_another_thread_takes_its_cost_along():
    first, second = uuid.uuid4(), uuid.uuid4()
    send(
        ("post", root(first, thread="a")),
        ("post", llm(uuid.uuid4(), first, total_cost=1.0)),
        ("post", root(second, thread="a", start=T0 + timedelta(minutes=1))),
        ("post", llm(uuid.uuid4(), second, total_cost=0.5)),
    )
    assert costs(thread="a")[0] == (2, 1.5)
    patch = {"id": str(second), "extra": {"metadata": {"thread_id": "b"}}}
    send(("patch", patch))
    assert costs(thread="a")[0] == (1, 1.0)
    assert costs(thread="b")[0] == (1, 0.5)
    assert UserRollup.objects.get(user_id="u").total_cost == 1.0  # user "" now


def test_a_run_patched_before_its_create_brings_its_cost_into_the_trace():
    top, call = uuid.uuid4(), uuid.uuid4()
    send(("post", root(top)))
    send(("patch", {"id": str(call), "end_time": T0.isoformat()}))
    placeholder = Run.objects.get(id=call).trace_id
    send(("post", llm(call, top, tokens=1, total_cost=0.75)))
    assert costs(top) == [(1, 0.75)] * 3
    if placeholder != top:
        assert not TraceRollup.objects.filter(trace_id=placeholder).exists()


def test_purging_a_turn_takes_its_cost_out_of_the_thread_and_user():
    first, second = uuid.uuid4(), uuid.uuid4()
    send(
        ("post", root(first)),
        ("post", llm(uuid.uuid4(), first, total_cost=1.0)),
        ("post", root(second, start=T0 + timedelta(minutes=1))),
        ("post", llm(uuid.uuid4(), second, model="x-7", tokens=3)),
    )
    delete_traces([first])
    assert costs() == [(0, None), (0, None)]
    delete_traces([second])
    assert costs() == [None, None]


def _rows():
    return [
        sorted(
            (str(pk), n, None if c is None else round(c, 10))
            for pk, n, c in model.objects.values_list("pk", "priced_runs", "total_cost")
        )
        for model in (TraceRollup, ThreadRollup, UserRollup)
    ]


def test_the_backfill_sets_the_cost_of_rows_stored_before_it():
    tops = [uuid.uuid4() for _ in range(3)]
    send(
        ("post", root(tops[0], thread="a", user="u1")),
        ("post", llm(uuid.uuid4(), tops[0], total_cost=1.5)),
        ("post", llm(uuid.uuid4(), tops[0], model="gpt-4o", tokens=4)),
        ("post", root(tops[1], thread="a", user="u2")),
        ("post", llm(uuid.uuid4(), tops[1], model="x-7", tokens=4)),
        ("post", root(tops[2], thread="b", user="u1")),
        # A trace whose root has not come, counted for its cost alone.
        ("post", llm(uuid.uuid4(), uuid.uuid4(), total_cost=0.125)),
    )
    want = _rows()
    assert want[0].count  # every table has rows
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in rollup_triggers.drops(vendor):
            cursor.execute(sql)
        # As the columns come: zero and null (and no row for a cost alone).
        cursor.execute("DELETE FROM runs_tracerollup WHERE root_id IS NULL")
        for table in rollup_triggers.TRACE, "runs_threadrollup", "runs_userrollup":
            cursor.execute(f"UPDATE {table} SET priced_runs = 0, total_cost = NULL")
        for sql in rollup_triggers.backfill_cost(vendor):
            cursor.execute(sql)
        for sql in rollup_triggers.triggers(vendor):
            cursor.execute(sql)
    assert _rows() == want
    assert ThreadRollup.objects.get(thread_id="b").total_cost is None
    # The triggers are back: a new priced run is counted.
    send(("post", llm(uuid.uuid4(), tops[2], total_cost=2.0)))
    assert ThreadRollup.objects.get(thread_id="b").total_cost == 2.0


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_the_drops_name_every_trigger_and_function_the_builder_creates(vendor):
    created = set(
        re.findall(
            r"CREATE (?:TRIGGER|FUNCTION) (\w+)",
            " ".join(rollup_triggers.triggers(vendor)),
        )
    )
    dropped = set(
        re.findall(
            r"DROP (?:TRIGGER|FUNCTION) IF EXISTS (\w+)",
            " ".join(rollup_triggers.drops(vendor)),
        )
    )
    assert created == dropped
    assert len(created) == (11 if vendor == "sqlite" else 8)


@pytest.fixture
def shop():
    """Thread "paid" (two priced turns, user ann) and "free" (unpriced, user bob)."""
    tops = [uuid.uuid4() for _ in range(3)]
    send(
        ("post", root(tops[0], thread="paid", user="ann", project="shop")),
        ("post", llm(uuid.uuid4(), tops[0], total_cost=0.25, project="shop")),
        (
            "post",
            root(
                tops[1],
                thread="paid",
                user="ann",
                start=T0 + timedelta(minutes=1),
                project="shop",
            ),
        ),
        ("post", llm(uuid.uuid4(), tops[1], total_cost=1.5, project="shop")),
        ("post", root(tops[2], thread="free", user="bob", project="shop")),
        ("post", llm(uuid.uuid4(), tops[2], model="x-7", tokens=5, project="shop")),
    )
    return tops


def _cells(html, table_id):
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="num">(.*?)</td>', table)


def test_the_lists_show_cost_and_a_dash_with_a_hover_when_nothing_was_priced(
    client, shop
):
    html = client.get("/threads", {"project": "shop"}).content.decode()
    assert '<th scope="col" class="num">Cost</th>' in html
    cells = _cells(html, "threads-table")
    assert "$1.75" in cells
    assert any(c.startswith('<span class="muted" ' + UNPRICED_HOVER) for c in cells)
    assert "$0.00" not in html and "$0<" not in html
    html = client.get("/users", {"project": "shop"}).content.decode()
    cells = _cells(html, "users-table")
    assert "$1.75" in cells
    assert UNPRICED_HOVER in html


def test_the_thread_page_shows_its_total_and_each_turns_cost(client, shop):
    html = client.get("/threads/paid", {"project": "shop"}).content.decode()
    assert re.search(r"Cost <b>\$1\.75</b>", html)
    assert re.findall(r"cost <b>(.*?)</b>", html) == ["$0.25", "$1.50"]
    html = client.get("/threads/free", {"project": "shop"}).content.decode()
    assert re.search(r"Cost <b><span class=\"muted\" " + UNPRICED_HOVER, html)


def test_the_user_page_shows_the_users_cost(client, shop):
    html = client.get("/users/ann", {"project": "shop"}).content.decode()
    assert re.search(r"Cost <b>\$1\.75</b>", html)
    assert _cells(html, "user-threads")[2] == "$1.75"
    assert [c for c in _cells(html, "user-traces") if c.startswith("$")] == [
        "$1.50",
        "$0.25",
    ]
    html = client.get("/users/bob", {"project": "shop"}).content.decode()
    assert UNPRICED_HOVER in html


def test_the_v2_threads_api_reports_total_cost(client, shop):
    project = str(ThreadRollup.objects.first().project_id)
    body = {"project_id": project, "min_start_time": "2020-01-01T00:00:00Z"}
    response = client.post(
        "/api/v2/threads/query", orjson.dumps(body), content_type="application/json"
    )
    items = {i["thread_id"]: i["total_cost"] for i in response.json()["items"]}
    assert items == {"paid": 1.75, "free": None}
    response = client.get(
        "/api/v2/threads/paid/traces",
        {"project_id": project, "selects": "TRACE_ID,TOTAL_COST"},
    )
    assert [i["total_cost"] for i in response.json()["items"]] == [0.25, 1.5]
    for thread, cost in (("paid", 1.75), ("free", None)):
        response = client.get(
            f"/api/v2/threads/{thread}/stats",
            {"session_id": project, "selects": "TURNS,TOTAL_COST"},
        )
        assert response.json() == {"turns": 2 if cost else 1, "total_cost": cost}


@pytest.mark.django_db(transaction=True)
def test_migration_0021_backfills_a_store_written_under_the_earlier_triggers():
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("runs", target)])

    migrate("0020_daily_rollups")
    try:
        top, child = uuid.uuid4(), uuid.uuid4()
        send(
            ("post", root(top)),
            ("post", llm(child, top, tokens=2, total_cost=0.5)),
            ("post", llm(uuid.uuid4(), top, model="x-7", tokens=3)),
            ("post", llm(uuid.uuid4(), uuid.uuid4(), total_cost=0.25)),  # no root
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM runs_tracerollup")
            assert cursor.fetchone()[0] == 1  # a cost alone did not count before
    finally:
        migrate("0021_rollup_cost")
    assert costs(top) == [(1, 0.5)] * 3
    assert sorted(TraceRollup.objects.values_list("priced_runs", "total_cost")) == [
        (1, 0.25),
        (1, 0.5),
    ]
    # The re-created triggers count what comes next.
    Run.objects.filter(id=child).delete()
    assert costs(top) == [(0, None)] * 3
