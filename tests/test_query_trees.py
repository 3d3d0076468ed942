"""Trace trees: raw rows become the same nodes the ORM would give, bodies as stored."""

import gc
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from runs.models import Run
from runs.query import trees
from runs.query.trees import trace_tree
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 15, 0, tzinfo=UTC)


def rendered(tree):
    return orjson.loads(orjson.dumps(tree))


def walk(node):
    yield node
    for child in node["children"]:
        yield from walk(child)


def test_full_tree_embeds_the_stored_bodies_and_renders_them_unchanged():
    bodies = {
        "inputs": {"q": "Le CAFÉ est fermé. 今天天气很好", "n": [1, 2.5, None]},
        "outputs": None,
        "extra": {"metadata": {"nested": {"deep": True}}},
        "events": [{"name": "start", "time": "2026-11-20T12:15:00"}],
    }
    root = RunFactory(start_time=T0, **bodies)
    tree = trace_tree(root.id)
    node = tree["hierarchy"]
    assert isinstance(node["inputs"], orjson.Fragment)
    assert node["outputs"] is None
    assert {k: v for k, v in rendered(node).items() if k in bodies} == bodies


def test_api_full_hierarchy_returns_the_bodies_as_json(client, api_prefix):
    root = RunFactory(start_time=T0, inputs={"a": "ü"}, outputs={"b": [1]})
    RunFactory(parent=root, start_time=T0 + timedelta(seconds=1), outputs=None)
    body = client.get(f"{api_prefix}/dashboard/runs/{root.id}/hierarchy").json()
    assert body["hierarchy"]["inputs"] == {"a": "ü"}
    assert body["hierarchy"]["outputs"] == {"b": [1]}
    assert body["hierarchy"]["children"][0]["outputs"] is None
    html = client.get(
        f"{api_prefix}/dashboard/runs/{root.id}/hierarchy", HTTP_ACCEPT="text/html"
    )
    assert html.status_code == 200


def test_rendered_nodes_hold_the_values_the_orm_reads():
    root = RunFactory(
        start_time=T0,
        end_time=T0 + timedelta(seconds=2, microseconds=250),
        tags=["a", "b"],
        model_name="",
    )
    child = RunFactory(
        parent=root,
        start_time=T0 + timedelta(microseconds=1),
        end_time=None,
        status="running",
        tags=[],
        model_name="gpt-4o",
        prompt_tokens=3,
        completion_tokens=4,
        total_tokens=7,
        error="boom",
    )
    tree = rendered(trace_tree(child.id, light=True))
    nodes = {n["id"]: n for n in walk(tree["hierarchy"])}
    assert set(nodes) == {str(root.id), str(child.id)}
    assert tree["trace_id"] == str(root.trace_id)
    top = nodes[str(root.id)]
    assert top["start_time"] == "2026-11-20T12:15:00+00:00"
    assert top["end_time"] == "2026-11-20T12:15:02.000250+00:00"
    assert top["duration_ms"] == 2000.25
    assert (top["tags"], top["model_name"], top["parent_run_id"]) == (
        ["a", "b"],
        None,
        None,
    )
    low = nodes[str(child.id)]
    assert low["start_time"] == "2026-11-20T12:15:00.000001+00:00"
    assert (low["end_time"], low["duration_ms"]) == (None, None)
    assert low["parent_run_id"] == str(root.id)
    assert (low["model_name"], low["total_tokens"]) == ("gpt-4o", 7)
    assert low["error"] == "boom"
    assert (low["depth"], low["orphan"], low["tags"]) == (1, False, [])
    assert "inputs" not in low


def test_orphans_and_cycles_hang_under_the_root_in_dotted_order():
    trace_id = uuid.uuid4()
    root = RunFactory(id=trace_id, trace_id=trace_id, start_time=T0)
    a, b = uuid.uuid4(), uuid.uuid4()
    # a and b name each other as parent: a cycle the root cannot reach.
    RunFactory(id=a, trace_id=trace_id, parent_id=b, start_time=T0 + timedelta(1))
    RunFactory(id=b, trace_id=trace_id, parent_id=a, start_time=T0 + timedelta(2))
    lost = RunFactory(
        trace_id=trace_id, parent_id=uuid.uuid4(), start_time=T0 + timedelta(3)
    )
    tree = trace_tree(root.id, light=True)
    top = tree["hierarchy"]
    assert top["id"] == str(root.id)
    assert tree["total_runs"] == 4
    hung = [(n["id"], n["orphan"], n["depth"]) for n in top["children"]]
    assert (str(lost.id), True, 1) in hung
    assert len({n["id"] for n in walk(top)}) == 4
    assert all(n["depth"] >= 0 for n in walk(top))


def test_a_chain_deeper_than_max_depth_is_cut_and_rehung(monkeypatch):
    monkeypatch.setattr(trees, "MAX_DEPTH", 3)
    root = RunFactory(start_time=T0)
    parent = root
    for i in range(5):
        parent = RunFactory(parent=parent, start_time=T0 + timedelta(seconds=i + 1))
    tree = trace_tree(root.id, light=True)
    assert tree["max_depth"] == 3
    assert [n["depth"] for n in walk(tree["hierarchy"])] == [0, 1, 2, 3, 1, 2]
    assert Run.objects.count() == 6


def test_leaf_nodes_hold_no_container_the_garbage_collector_tracks():
    root = RunFactory(start_time=T0, tags=["a"])
    leaf = RunFactory(parent=root, start_time=T0 + timedelta(seconds=1), tags=[])
    top = trace_tree(leaf.id)["hierarchy"]
    assert [n["id"] for n in top["children"]] == [str(leaf.id)]
    assert top["children"][0]["children"] == ()
    assert not gc.is_tracked(top["children"][0])
    assert rendered(top)["tags"] == ["a"]
