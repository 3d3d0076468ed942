"""Hostile inputs get a 4xx naming the problem, never a 500; valid items are kept."""

import uuid

import orjson
import pytest

from runs.models import Feedback, Project, Run
from tests.factories import FeedbackFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22+00:00"


def _batch(client, api_prefix, body):
    return client.post(
        f"{api_prefix}/runs/batch", orjson.dumps(body), content_type="application/json"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_time", "0001-01-01T00:00:00+05:00"),
        ("end_time", "9999-12-31T23:00:00-05:00"),
        ("start_time", "9999-12-31T23:59:59.999999Z"),
        ("start_time", "0001-01-01T00:00:00Z"),
    ],
)
def test_overflowing_times_reject_the_run_and_keep_the_others(
    client, api_prefix, field, value
):
    bad, ok = uuid.uuid4(), uuid.uuid4()
    run = {"id": str(bad), "name": "n", "start_time": T0, field: value}
    good = {"id": str(ok), "name": "n", "start_time": T0}
    response = _batch(client, api_prefix, {"post": [run, good]})
    assert response.status_code == 422
    rejected = response.json()["rejected"]
    assert [(r["run_id"], r["field"]) for r in rejected] == [(str(bad), field)]
    assert "out of range" in rejected[0]["error"]
    assert list(Run.objects.values_list("id", flat=True)) == [ok]


def test_feedback_with_an_overflowing_created_at_is_a_400(client, api_prefix):
    run = RunFactory()
    early = "0001-01-01T00:00:00+01:00"
    body = {"run_id": str(run.id), "key": "k", "created_at": early}
    response = client.post(
        f"{api_prefix}/feedback", orjson.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert "created_at" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "start_time_gte=0001-01-01T00:00:00%2B05:00",
        "start_time_lte=9999-12-31T23:00:00-05:00",
        "start_time_gte=9999-12-31T23:59:59.999999Z",
    ],
)
@pytest.mark.parametrize("route", ["dashboard/runs/roots", "export/runs"])
def test_overflowing_time_filters_are_a_400(client, api_prefix, query, route):
    RunFactory()
    response = client.get(f"{api_prefix}/{route}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_overflowing_stats_filters_are_a_400(client, api_prefix):
    response = client.get(
        f"{api_prefix}/dashboard/stats/summary?start_time_gte=0001-01-01T00:00:00%2B05:00"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("route", ["dashboard/runs/roots", "export/runs"])
def test_a_percent_in_trace_ids_is_named_not_a_500(client, api_prefix, route):
    response = client.get(f"{api_prefix}/{route}?trace_ids=%25")
    assert response.status_code == 400
    assert response.json() == {"trace_ids": ["'%' is not a UUID."]}


def test_nul_in_project_metadata_is_stored_as_a_replacement_character(
    client, api_prefix
):
    body = {"name": "nul", "extra": {"metadata": {"k\x00": "v\x00"}}}
    response = client.post(
        f"{api_prefix}/sessions", orjson.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201
    assert Project.objects.get(name="nul").metadata == {"k\ufffd": "v\ufffd"}


def test_nul_in_a_feedback_patch_is_stored_as_a_replacement_character(
    client, api_prefix
):
    feedback = FeedbackFactory(run_id=RunFactory().id)
    response = client.patch(
        f"{api_prefix}/feedback/{feedback.id}",
        orjson.dumps({"value": {"a\x00": "\x00"}}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Feedback.objects.get(id=feedback.id).value == {"a\ufffd": "\ufffd"}
    # A plain text field names the character instead.
    response = client.patch(
        f"{api_prefix}/feedback/{feedback.id}",
        orjson.dumps({"comment": "x\x00"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["comment"]


@pytest.mark.parametrize(
    "path", ["/?project=%00", "/traces?project=%00", "/traces?search=%00"]
)
def test_nul_in_a_page_query_is_a_400(client, path):
    assert client.get(path).status_code == 400


def test_nul_in_an_api_query_is_a_json_400(client, api_prefix):
    response = client.get(f"{api_prefix}/dashboard/runs/roots?project=%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "runs/not-a-uuid",
        "dashboard/runs/xyz/hierarchy",
        "sessions/nope",
        "feedback/nope",
        "no/such/route",
    ],
)
def test_an_unknown_api_path_is_a_json_404(client, api_prefix, path):
    response = client.get(f"{api_prefix}/{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
