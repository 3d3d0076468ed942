"""Where a run sits: parent cycles, moving trace, end before start, part ids."""

import uuid

import orjson
import pytest

from runs.models import Run
from tests.e2e.wire import MULTIPART_TYPE, multipart, part
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22.427839+00:00"
T1 = "2026-11-25T13:40:23.000000+00:00"
SEG0 = "20261125T134022427839Z"


def _run(run_id, **extra):
    return {"id": str(run_id), "name": "n", "start_time": T0, **extra}


def _batch(client, api_prefix, body):
    return client.post(
        f"{api_prefix}/runs/batch", orjson.dumps(body), content_type="application/json"
    )


def _tree_answers(client, api_prefix, run_id) -> None:
    run = Run.objects.get(id=run_id)
    hierarchy = client.get(f"{api_prefix}/dashboard/runs/{run_id}/hierarchy")
    assert hierarchy.status_code == 200
    assert (
        hierarchy.json()["total_runs"]
        == Run.objects.filter(trace_id=run.trace_id).count()
    )
    assert client.get(f"/traces/{run.trace_id}").status_code == 200


def test_a_parent_cycle_in_one_request_refuses_the_run_that_closes_it(
    client, api_prefix
):
    a, b, ok = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    response = _batch(
        client,
        api_prefix,
        {
            "post": [
                _run(a, parent_run_id=str(b), trace_id=str(a)),
                _run(b, parent_run_id=str(a), trace_id=str(a)),
                _run(ok),
            ]
        },
    )
    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "item": "run",
            "run_id": str(b),
            "field": "parent_run_id",
            "error": "would make the run its own ancestor (a parent cycle)",
        }
    ]
    assert set(Run.objects.values_list("id", flat=True)) == {a, ok}
    _tree_answers(client, api_prefix, a)


def test_a_parent_cycle_through_stored_dotted_orders_is_refused(client, api_prefix):
    a, b = uuid.uuid4(), uuid.uuid4()
    assert (
        _batch(
            client,
            api_prefix,
            {"post": [_run(b, trace_id=str(a), dotted_order=f"{SEG0}{a}.{SEG0}{b}")]},
        ).status_code
        == 202
    )
    response = _batch(
        client,
        api_prefix,
        {"post": [_run(a, trace_id=str(b), dotted_order=f"{SEG0}{b}.{SEG0}{a}")]},
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["field"] == "parent_run_id"
    _tree_answers(client, api_prefix, b)


def test_a_run_that_is_its_own_parent_is_refused(client, api_prefix):
    a = uuid.uuid4()
    response = _batch(client, api_prefix, {"post": [_run(a, parent_run_id=str(a))]})
    assert response.status_code == 422
    assert not Run.objects.exists()


def test_a_stored_cycle_still_gives_a_tree(client, api_prefix):
    a = RunFactory()
    b = RunFactory(parent=a)
    # Stored by an older version: each names the other as its parent.
    Run.objects.filter(id=a.id).update(parent_id=b.id)
    _tree_answers(client, api_prefix, a.id)
    tree = client.get(f"{api_prefix}/dashboard/runs/{b.id}/hierarchy").json()
    assert tree["hierarchy"]["id"] == str(a.id)
    assert [c["id"] for c in tree["hierarchy"]["children"]] == [str(b.id)]


def test_a_patch_cannot_move_a_run_to_another_trace(client, api_prefix):
    a = uuid.uuid4()
    dotted = f"{SEG0}{a}"
    _batch(
        client, api_prefix, {"post": [_run(a, trace_id=str(a), dotted_order=dotted)]}
    )
    other = uuid.uuid4()
    response = client.patch(
        f"{api_prefix}/runs/{a}",
        orjson.dumps({"trace_id": str(other), "end_time": T1}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["field"] == "trace_id"
    assert Run.objects.get(id=a).trace_id == a


def test_a_run_that_ends_before_it_starts_is_refused(client, api_prefix):
    a, ok = uuid.uuid4(), uuid.uuid4()
    response = _batch(
        client,
        api_prefix,
        {"post": [_run(a, start_time=T1, end_time=T0), _run(ok, end_time=T1)]},
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["field"] == "end_time"
    assert list(Run.objects.values_list("id", flat=True)) == [ok]


def test_a_multipart_part_whose_object_names_another_run_is_refused(client, api_prefix):
    a, b = uuid.uuid4(), uuid.uuid4()
    response = client.post(
        f"{api_prefix}/runs/multipart",
        multipart(part(f"post.{a}", _run(b))),
        content_type=MULTIPART_TYPE,
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["item"] == f"post.{a}"
    assert response.json()["rejected"][0]["field"] == "id"
    assert not Run.objects.exists()
