"""Dataset and example routes through the test client: shapes, versions, errors."""

import uuid

import orjson
import pytest

from datasets.models import Dataset, Example
from runs.apikeys import create_api_key
from runs.models import Feedback, Project
from tests.factories import DatasetFactory, ExampleFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, api_prefix):
    class Api:
        def get(self, path, data=None, **extra):
            return client.get(f"{api_prefix}/{path}", data, **extra)

        def send(self, method, path, body, **extra):
            raw = body if isinstance(body, bytes) else orjson.dumps(body)
            return getattr(client, method)(
                f"{api_prefix}/{path}", raw, content_type="application/json", **extra
            )

        def post(self, path, body, **extra):
            return self.send("post", path, body, **extra)

        def patch(self, path, body, **extra):
            return self.send("patch", path, body, **extra)

        def delete(self, path, **extra):
            return client.delete(f"{api_prefix}/{path}", **extra)

    return Api()


def test_create_dataset_returns_the_langsmith_shape_and_409_on_a_duplicate(api):
    response = api.post(
        "datasets",
        {
            "name": "qa",
            "description": "d",
            "data_type": "kv",
            "transformations": None,
            "extra": {"metadata": {"team": "x"}},
        },
    )
    assert response.status_code == 201
    dataset = Dataset.objects.get()
    assert response.json() == {
        "id": str(dataset.id),
        "name": "qa",
        "description": "d",
        "data_type": "kv",
        "created_at": dataset.created_at.isoformat(),
        "modified_at": dataset.modified_at.isoformat(),
        "example_count": 0,
        "session_count": 0,
        "last_session_start_time": None,
        "inputs_schema_definition": None,
        "outputs_schema_definition": None,
        "transformations": None,
        "metadata": {"team": "x"},
        "tenant_id": "11111111-1111-4111-8111-111111111111",
    }
    again = api.post("datasets", {"name": "qa"})
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "Dataset 'qa' already exists."},
    )
    other = api.post("datasets", {"name": "other"}).json()
    assert api.patch(f"datasets/{other['id']}", {"name": "qa"}).status_code == 409


def test_unknown_dataset_ids_are_404_everywhere(api):
    missing = uuid.uuid4()
    assert api.get(f"datasets/{missing}").status_code == 404
    assert api.patch(f"datasets/{missing}", {"name": "x"}).status_code == 404
    assert api.delete(f"datasets/{missing}").status_code == 404
    assert api.get("examples", {"dataset": str(missing)}).status_code == 404
    bulk = api.post("examples/bulk", [{"dataset_id": str(missing), "inputs": {}}])
    assert bulk.status_code == 404
    assert "Dataset not found" in bulk.json()["detail"]
    assert api.get(f"examples/{uuid.uuid4()}").status_code == 404
    assert api.get("datasets", {"id": "not-a-uuid"}).status_code == 400


def test_invalid_examples_are_400_naming_the_item_and_nothing_is_stored(api):
    dataset = DatasetFactory()
    ok = {"dataset_id": str(dataset.id), "inputs": {"q": 1}}
    bad = api.post("examples/bulk", [ok, {**ok, "inputs": "not an object"}])
    assert (bad.status_code, bad.json()) == (
        400,
        {"[1].inputs": ["expected a JSON object"]},
    )
    no_inputs = api.post("examples/bulk", [{"dataset_id": str(dataset.id)}])
    assert no_inputs.json() == {"[0].inputs": ["is required (a JSON object)"]}
    malformed = api.post("examples/bulk", b'[{"inputs": {')
    assert malformed.status_code == 400
    assert "malformed JSON" in malformed.json()["detail"]
    assert api.post("examples/bulk", {"not": "a list"}).status_code == 400
    assert Example.objects.count() == 0


def test_json_examples_update_as_new_versions_and_old_versions_stay_readable(api):
    dataset = DatasetFactory()
    created = api.post(
        "examples/bulk",
        [
            {"dataset_id": str(dataset.id), "inputs": {"q": "a"}, "outputs": {"x": 1}},
            {"dataset_id": str(dataset.id), "inputs": {"q": "b"}, "split": "test"},
        ],
    ).json()
    first, second = created
    assert first["metadata"] == {"dataset_split": ["base"]}
    assert second["metadata"] == {"dataset_split": ["test"]}
    version_1 = first["modified_at"]
    patched = api.patch(
        "examples/bulk", [{"id": first["id"], "outputs": {"x": 2}}]
    ).json()
    assert patched["count"] == 1
    now = api.get(f"examples/{first['id']}").json()
    assert (now["inputs"], now["outputs"]) == ({"q": "a"}, {"x": 2})
    then = api.get(f"examples/{first['id']}", {"as_of": version_1}).json()
    assert then["outputs"] == {"x": 1}
    missing = api.patch("examples/bulk", [{"id": str(uuid.uuid4()), "inputs": {}}])
    assert missing.status_code == 404
    deleted = api.delete(f"examples?example_ids={second['id']}")
    assert deleted.status_code == 200
    listed = api.get("examples", {"dataset": str(dataset.id)}).json()
    assert [e["id"] for e in listed] == [first["id"]]
    old = api.get("examples", {"dataset": str(dataset.id), "as_of": version_1}).json()
    assert [e["id"] for e in old] == [first["id"], second["id"]]
    unknown_tag = api.get("examples", {"dataset": str(dataset.id), "as_of": "prod"})
    assert unknown_tag.status_code == 400
    assert "tag" in unknown_tag.json()["as_of"][0]


def test_multipart_examples_reject_unknown_parts(api, client, api_prefix):
    dataset = DatasetFactory()
    boundary = "b0undary"
    example_id = str(uuid.uuid4())
    body = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{example_id}.bogus"\r\n'
        "Content-Type: application/json\r\n\r\n{}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = client.post(
        f"{api_prefix}/platform/datasets/{dataset.id}/examples",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert list(response.json()) == [f"{example_id}.bogus"]


def test_experiment_against_a_deleted_dataset_is_404(api):
    dataset = DatasetFactory()
    api.delete(f"datasets/{dataset.id}")
    response = api.post(
        "sessions", {"name": "exp", "reference_dataset_id": str(dataset.id)}
    )
    assert (response.status_code, response.json()) == (
        404,
        {"detail": f"Dataset not found: {dataset.id}"},
    )
    assert not Project.objects.filter(name="exp").exists()


def test_sessions_carry_and_filter_by_reference_dataset_and_null_means_unchanged(api):
    dataset = DatasetFactory(name="ds")
    created = api.post(
        "sessions",
        {
            "name": "exp",
            "description": "first",
            "reference_dataset_id": str(dataset.id),
            "extra": {"metadata": {"a": 1}},
        },
    ).json()
    ProjectFactory(name="plain")
    assert created["reference_dataset_id"] == str(dataset.id)
    patched = api.patch(
        f"sessions/{created['id']}",
        {
            "name": None,
            "description": None,
            "end_time": None,
            "extra": {"metadata": {"a": 1, "dataset_version": "v"}},
        },
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["name"], body["description"]) == ("exp", "first")
    assert body["extra"] == {"metadata": {"a": 1, "dataset_version": "v"}}
    by_id = api.get("sessions", {"reference_dataset": str(dataset.id)}).json()
    by_name = api.get("sessions", {"reference_dataset_name": "ds"}).json()
    free = api.get("sessions", {"reference_free": "true"}).json()
    assert [p["name"] for p in by_id] == ["exp"]
    assert [p["name"] for p in by_name] == ["exp"]
    assert [p["name"] for p in free] == ["plain"]
    read = api.get(f"datasets/{dataset.id}").json()
    assert read["session_count"] == 1


def test_session_stats_split_run_and_summary_feedback(api):
    project = ProjectFactory(name="exp")
    runs = [RunFactory(project=project) for _ in range(3)]
    for run, score in zip(runs, [1.0, 0.0, 1.0], strict=True):
        Feedback.objects.create(
            run_id=run.id, session_id=project.id, key="exact", score=score
        )
    Feedback.objects.create(session_id=project.id, key="accuracy", score=0.5)
    body = api.get(f"sessions/{project.id}", {"include_stats": "true"}).json()
    assert body["feedback_stats"] == {
        "exact": {
            "n": 3,
            "avg": pytest.approx(2 / 3),
            "stdev": pytest.approx(0.4714045),
            "errors": 0,
            "values": {},
        }
    }
    assert body["session_feedback_stats"]["accuracy"]["avg"] == 0.5
    assert (body["run_count"], body["total_tokens"], body["total_cost"]) == (3, 0, None)
    assert body["latency_p50"] == pytest.approx(1.0, rel=0.1)


def test_feedback_keeps_comparative_fields_and_filters_by_them(api):
    run = RunFactory()
    comparison, group = uuid.uuid4(), uuid.uuid4()
    api.post(
        "feedback",
        {
            "run_id": str(run.id),
            "key": "pref",
            "score": 1,
            "comparative_experiment_id": str(comparison),
            "feedback_group_id": str(group),
        },
    )
    api.post("feedback", {"run_id": str(run.id), "key": "other", "score": 0})
    listed = api.get("feedback", {"comparative_experiment_id": str(comparison)}).json()
    assert [(f["key"], f["feedback_group_id"]) for f in listed] == [
        ("pref", str(group))
    ]
    assert listed[0]["comparative_experiment_id"] == str(comparison)
    assert len(api.get("feedback", {"level": "run"}).json()) == 2
    assert api.get("feedback", {"level": "session"}).json() == []


def test_downloads_are_jsonl_and_csv_of_the_current_version(api, client, api_prefix):
    dataset = DatasetFactory()
    example = ExampleFactory(
        dataset=dataset, inputs={"q": "a,b"}, outputs={"n": [1, 2]}
    )
    jsonl = b"".join(client.get(f"{api_prefix}/datasets/{dataset.id}/jsonl"))
    row = orjson.loads(jsonl.splitlines()[0])
    assert (row["id"], row["inputs"], row["outputs"]) == (
        str(example.id),
        {"q": "a,b"},
        {"n": [1, 2]},
    )
    csv_text = b"".join(
        client.get(f"{api_prefix}/datasets/{dataset.id}/csv").streaming_content
    ).decode()
    assert csv_text.splitlines() == [
        "id,inputs.q,outputs.n",
        f'{example.id},"a,b","[1,2]"',
    ]


def test_scoped_keys_may_not_use_datasets(api):
    key = create_api_key(name="team", project="mine").key
    ProjectFactory(name="mine")
    response = api.get("datasets", HTTP_X_API_KEY=key)
    assert response.status_code == 403
    assert "not scoped" in response.json()["detail"]


def test_attachment_urls_need_a_valid_signature(api):
    assert api.get("examples/attachments/forged").status_code == 404


def test_updates_naming_a_missing_dataset_or_one_example_twice_are_400(api):
    example = ExampleFactory()
    moved = api.patch(
        "examples/bulk", [{"id": str(example.id), "dataset_id": str(uuid.uuid4())}]
    )
    assert moved.json() == {"dataset_id": ["no such dataset"]}
    twice = api.patch(
        "examples/bulk",
        [{"id": str(example.id), "inputs": {}}, {"id": str(example.id), "inputs": {}}],
    )
    assert twice.status_code == 400
    assert api.patch(f"examples/{example.id}", [1]).status_code == 400
    assert Example.objects.filter(id=example.id).count() == 1
