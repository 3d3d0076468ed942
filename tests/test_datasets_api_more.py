"""Dataset routes beyond the SDK's everyday calls: versions, tags, splits,
multipart updates with attachments, experiment results and comparisons."""

import uuid

import orjson
import pytest

from datasets.models import ComparativeExperiment, ExampleAttachment
from runs.models import Feedback
from tests.factories import DatasetFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

BOUNDARY = "b0undary"


def multipart(parts: list[tuple[str, str, bytes]]) -> bytes:
    out = b""
    for name, ctype, data in parts:
        out += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def api(client, api_prefix):
    class Api:
        def get(self, path, data=None):
            return client.get(f"{api_prefix}/{path}", data)

        def send(self, method, path, body):
            return getattr(client, method)(
                f"{api_prefix}/{path}",
                orjson.dumps(body),
                content_type="application/json",
            )

        def form(self, method, path, parts):
            return getattr(client, method)(
                f"{api_prefix}/{path}",
                multipart(parts),
                content_type=f"multipart/form-data; boundary={BOUNDARY}",
            )

    return Api()


def test_multipart_update_renames_keeps_and_drops_attachments(api, client):
    dataset = DatasetFactory()
    eid = str(uuid.uuid4())
    created = api.form(
        "post",
        f"platform/datasets/{dataset.id}/examples",
        [
            (eid, "application/json", b'{"metadata": {"m": 1}}'),
            (f"{eid}.inputs", "application/json", b'{"q": 1}'),
            (f"{eid}.attachment.a", "text/plain", b"A"),
            (f"{eid}.attachment.b", "text/plain", b"B"),
        ],
    )
    assert created.status_code == 201
    assert created.json()["example_ids"] == [eid]
    updated = api.form(
        "patch",
        f"platform/datasets/{dataset.id}/examples",
        [
            (eid, "application/json", b"{}"),
            (
                f"{eid}.attachments_operations",
                "application/json",
                b'{"rename": {"a": "renamed"}, "retain": []}',
            ),
            (f"{eid}.attachment.c", "image/png", b"C"),
        ],
    )
    assert updated.status_code == 200
    body = api.get(f"examples/{eid}").json()
    assert sorted(body["attachment_urls"]) == ["attachment.c", "attachment.renamed"]
    assert body["inputs"] == {"q": 1}
    url = body["attachment_urls"]["attachment.renamed"]["presigned_url"]
    download = client.get(url.split("testserver", 1)[1])
    assert b"".join(download.streaming_content) == b"A"
    assert download["Content-Disposition"] == "attachment"
    # The first version still has a and b.
    assert ExampleAttachment.objects.filter(example_id=eid).count() == 4
    missing = api.form(
        "patch",
        f"platform/datasets/{dataset.id}/examples",
        [(str(uuid.uuid4()), "application/json", b"{}")],
    )
    assert missing.status_code == 404
    not_json = api.form(
        "post",
        f"platform/datasets/{dataset.id}/examples",
        [(f"{eid}.inputs", "application/json", b"{oops")],
    )
    assert not_json.status_code == 400
    assert list(not_json.json()) == [f"{eid}.inputs"]


def test_versions_tags_and_splits_routes(api):
    dataset = DatasetFactory()
    rows = api.send(
        "post",
        "examples/bulk",
        [{"dataset_id": str(dataset.id), "inputs": {"i": i}} for i in range(2)],
    ).json()
    first = rows[0]["modified_at"]
    ids = [r["id"] for r in rows]
    put = api.send(
        "put", f"datasets/{dataset.id}/splits", {"split_name": "x", "examples": ids}
    )
    assert put.status_code == 200
    assert api.get(f"datasets/{dataset.id}/splits").json() == ["base", "x"]
    assert api.get(f"datasets/{dataset.id}/splits", {"as_of": first}).json() == ["base"]
    api.send(
        "put",
        f"datasets/{dataset.id}/splits",
        {"split_name": "x", "examples": ids[:1], "remove": True},
    )
    in_x = api.get("examples", {"dataset": str(dataset.id), "splits": "x"}).json()
    assert [e["id"] for e in in_x] == ids[1:]
    versions = api.get(f"datasets/{dataset.id}/versions").json()
    assert len(versions) == 3 and versions[-1]["as_of"] == first
    tagged = api.send(
        "put", f"datasets/{dataset.id}/tags", {"as_of": first, "tag": "v1"}
    )
    assert tagged.json() == {"as_of": first, "tags": ["v1"]}
    found = api.get(f"datasets/{dataset.id}/versions", {"search": "v1"}).json()
    assert found == [{"as_of": first, "tags": ["v1"]}]
    assert api.get(f"datasets/{dataset.id}/version").status_code == 400
    before = api.get(f"datasets/{dataset.id}/version", {"as_of": "2000-01-01T00:00:00"})
    assert before.status_code == 404
    assert (
        api.send(
            "put",
            f"datasets/{dataset.id}/tags",
            {"as_of": "2000-01-01T00:00:00Z", "tag": "old"},
        ).status_code
        == 404
    )
    assert api.get(f"datasets/{dataset.id}/versions/diff").status_code == 400
    patched = api.send(
        "patch",
        f"platform/datasets/{dataset.id}/examples/metadata",
        {
            "example_ids": ids,
            "operations": [
                {"key": "dataset_split", "operation": "array_add", "values": ["y"]}
            ],
        },
    )
    assert patched.json() == {"count": 2}


def test_single_example_routes_and_dataset_patch(api):
    dataset = DatasetFactory(name="d")
    one = api.send(
        "post", "examples", {"dataset_id": str(dataset.id), "inputs": {"a": 1}}
    )
    assert one.status_code == 201
    eid = one.json()["id"]
    patched = api.send("patch", f"examples/{eid}", {"inputs": {"a": 2}})
    assert patched.json() == {"message": "Example updated", "example_ids": [eid]}
    assert api.get(f"examples/{eid}").json()["inputs"] == {"a": 2}
    assert api.send("delete", f"examples/{eid}", {}).status_code == 204
    assert api.send("delete", f"examples/{eid}", {}).status_code == 404
    renamed = api.send(
        "patch", f"datasets/{dataset.id}", {"name": "e", "description": "new"}
    )
    assert (renamed.json()["name"], renamed.json()["description"]) == ("e", "new")
    assert api.get("examples", {"filter": "eq(a, 1)"}).status_code == 400
    assert api.get("datasets", {"metadata": "[1]"}).status_code == 400
    DatasetFactory(name="tagged", metadata={"team": "a"}, data_type="chat")
    by_meta = api.get("datasets", {"metadata": '{"team": "a"}'}).json()
    assert [d["name"] for d in by_meta] == ["tagged"]
    assert [d["name"] for d in api.get("datasets", {"data_type": "chat"}).json()] == [
        "tagged"
    ]


def test_experiment_results_and_comparisons_reject_foreign_experiments(api):
    dataset = DatasetFactory()
    example = api.send(
        "post", "examples", {"dataset_id": str(dataset.id), "inputs": {"q": 1}}
    ).json()
    exp = ProjectFactory(name="exp", reference_dataset_id=dataset.id)
    other = ProjectFactory(name="other")
    run = RunFactory(project=exp, reference_example_id=example["id"])
    Feedback.objects.create(run_id=run.id, session_id=exp.id, key="k", score=0.5)
    rows = api.send(
        "post", f"datasets/{dataset.id}/runs", {"session_ids": [str(exp.id)]}
    ).json()
    assert [r["id"] for r in rows] == [example["id"]]
    assert [r["id"] for r in rows[0]["runs"]] == [str(run.id)]
    assert rows[0]["runs"][0]["feedback_stats"] == {"k": {"n": 1, "avg": 0.5}}
    foreign = api.send(
        "post", f"datasets/{dataset.id}/runs", {"session_ids": [str(other.id)]}
    )
    assert foreign.status_code == 404
    filtered = api.send(
        "post",
        f"datasets/{dataset.id}/runs",
        {"session_ids": [str(exp.id)], "filters": {"x": ["y"]}},
    )
    assert filtered.status_code == 400
    body = {
        "experiment_ids": [str(exp.id), str(other.id)],
        "reference_dataset_id": str(dataset.id),
    }
    assert api.send("post", "datasets/comparative", body).status_code == 400
    second = ProjectFactory(name="exp2", reference_dataset_id=dataset.id)
    body["experiment_ids"] = [str(exp.id), str(second.id)]
    body["id"] = str(uuid.uuid4())
    created = api.send("post", "datasets/comparative", body)
    assert created.status_code == 201
    assert [e["name"] for e in created.json()["experiments_info"]] == ["exp", "exp2"]
    assert api.send("post", "datasets/comparative", body).status_code == 409
    assert ComparativeExperiment.objects.count() == 1


def test_csv_upload_errors_are_400(api, client, api_prefix):
    def upload(parts):
        return client.post(
            f"{api_prefix}/datasets/upload",
            multipart(parts),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )

    assert upload([("name", "text/plain", b"x")]).status_code == 400
    not_utf8 = upload(
        [("input_keys", "text/plain", b"a"), ("file", "text/csv", b"a\n\xff\n")]
    )
    assert not_utf8.json() == {"file": ["the CSV file is not UTF-8"]}
    wrong_type = upload(
        [
            ("input_keys", "text/plain", b"a"),
            ("data_type", "text/plain", b"graph"),
            ("file", "text/csv", b"a\n1\n"),
        ]
    )
    assert list(wrong_type.json()) == ["data_type"]


def test_jsonl_upload_creates_a_dataset(api, client, api_prefix):
    lines = b'{"inputs": {"q": 1}, "outputs": {"a": 2}}\n\n{"inputs": {"q": 3}}\n'
    response = client.post(
        f"{api_prefix}/datasets/upload",
        multipart(
            [("name", "text/plain", b"lines"), ("file", "application/x-ndjson", lines)]
        ),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 201
    assert response.json()["example_count"] == 2
    listed = api.get("examples", {"dataset": response.json()["id"]}).json()
    assert [(e["inputs"], e["outputs"]) for e in listed] == [
        ({"q": 1}, {"a": 2}),
        ({"q": 3}, None),
    ]
