"""The LangSmith write routes over HTTP: status codes and exact answers."""

import gzip
import uuid
import zlib

import orjson
import pytest

from runs.api.ingest_views import info_payload
from runs.models import Attachment, Feedback, Run
from tests.e2e.wire import MULTIPART_TYPE, multipart, part, zstd_stream

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22.427839+00:00"
T1 = "2026-11-25T13:40:23.000000+00:00"


def _run(run_id: uuid.UUID, **extra) -> dict:
    return {
        "id": str(run_id),
        "name": "chain",
        "run_type": "chain",
        "start_time": T0,
        "session_name": "http",
        **extra,
    }


def _post_batch(client, api_prefix, body, **headers):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(
        f"{api_prefix}/runs/batch",
        data=data,
        content_type="application/json",
        headers=headers,
    )


def _post_multipart(client, api_prefix, body, **headers):
    return client.post(
        f"{api_prefix}/runs/multipart",
        data=body,
        content_type=MULTIPART_TYPE,
        headers=headers,
    )


def test_info_is_the_complete_object_every_sdk_parses(client, api_prefix, settings):
    response = client.get(f"{api_prefix}/info")
    assert response.status_code == 200
    assert response.json() == {
        "version": "0.18.0",
        "agent_spy_version": "0.1.0",
        "license_expiration_time": None,
        "batch_ingest_config": {
            "use_multipart_endpoint": True,
            "scale_up_qsize_trigger": 1000,
            "scale_up_nthreads_limit": 16,
            "scale_down_nempty_trigger": 4,
            "size_limit": 100,
            "size_limit_bytes": 25 * 1024 * 1024,
        },
        "instance_flags": {
            "zstd_compression_enabled": True,
            "search_enabled": True,
            "s3_storage_enabled": False,
            "dataset_examples_multipart_enabled": True,
        },
        "tenant_handle": "agent-spy",
    }


def test_info_size_limit_follows_max_trace_size(settings):
    settings.MAX_TRACE_SIZE_BYTES = 3 * 1024 * 1024
    assert info_payload()["batch_ingest_config"]["size_limit_bytes"] == 3145728


def test_batch_stores_posts_and_patches(client, api_prefix):
    run_id = uuid.uuid4()
    response = _post_batch(
        client,
        api_prefix,
        {
            "post": [_run(run_id)],
            "patch": [{"id": str(run_id), "end_time": T1, "outputs": {"a": 1}}],
        },
    )
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "rejected": [],
        "rejected_count": 0,
        "feedback": 0,
        "attachments": 0,
    }
    run = Run.objects.get(id=run_id)
    assert (run.status, run.outputs, run.project.name) == ("success", {"a": 1}, "http")


def test_batch_with_only_patches_is_accepted(client, api_prefix):
    run_id = uuid.uuid4()
    assert _post_batch(client, api_prefix, {"post": [_run(run_id)]}).status_code == 202
    response = _post_batch(
        client, api_prefix, {"patch": [{"id": str(run_id), "end_time": T1}]}
    )
    assert response.status_code == 202
    assert Run.objects.get(id=run_id).status == "success"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"post": [', "malformed JSON: unexpected end of data: line 1 column 11"),
        (b"[1]", "expected a JSON object with 'post' and/or 'patch' lists"),
        (b'{"post": {}}', "'post' must be a list of runs"),
        (b'{"post": [{"a": NaN}]}', "malformed JSON: unexpected character"),
        (b'{"post": [{"x": 1e400}]}', "malformed JSON: number is infinity"),
        (b'{"post": [{"x": "\\ud800"}]}', "malformed JSON: no low surrogate"),
        (b"\xff\xfe", "malformed JSON: "),
    ],
)
def test_undecodable_batch_is_a_400_that_says_why(client, api_prefix, body, detail):
    response = _post_batch(client, api_prefix, body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert not Run.objects.exists()


def test_json_nested_deeper_than_the_limit_is_refused(client, api_prefix):
    body = b'{"post": [' + b"[" * 300 + b"]" * 300 + b"]}"
    response = _post_batch(client, api_prefix, body)
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON nested deeper than 200 levels"}


def test_empty_body_is_a_400(client, api_prefix):
    response = _post_batch(client, api_prefix, b"")
    assert response.status_code == 400
    assert response.json() == {"detail": "Empty request body."}


def test_bad_run_is_named_and_the_valid_ones_are_stored(client, api_prefix):
    good, bad = uuid.uuid4(), uuid.uuid4()
    response = _post_batch(
        client,
        api_prefix,
        {
            "post": [
                _run(good),
                _run(bad, trace_id="zzz"),
                {"id": "nope", "name": "x"},
            ]
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {
            "item": "post[1]",
            "run_id": str(bad),
            "field": "trace_id",
            "error": "'zzz' is not a valid UUID",
        },
        {
            "item": "post[2]",
            "run_id": "nope",
            "field": "id",
            "error": "'nope' is not a valid UUID",
        },
    ]
    assert body["detail"] == (
        "2 item(s) rejected, 1 run(s) stored: "
        f"post[1] ({bad}) trace_id: 'zzz' is not a valid UUID; "
        "post[2] (nope) id: 'nope' is not a valid UUID"
    )
    assert list(Run.objects.values_list("id", flat=True)) == [good]


def test_huge_integers_are_stored(client, api_prefix):
    run_id = uuid.uuid4()
    body = (
        b'{"post": [{"id": "%s", "name": "n", "start_time": "%s", '
        b'"inputs": {"u64": 18446744073709551615, "huge": 1%s}}]}'
        % (str(run_id).encode(), T0.encode(), b"0" * 30)
    )
    response = _post_batch(client, api_prefix, body)
    assert response.status_code == 202
    inputs = Run.objects.get(id=run_id).inputs
    # Past 64 bits the JSON parser keeps the magnitude as a float; PostgreSQL's
    # numeric then reads it back as an int of the same value.
    assert inputs["u64"] == 18446744073709551615
    assert float(inputs["huge"]) == 1e30


def test_body_over_max_trace_size_is_a_413(client, api_prefix, settings):
    settings.MAX_TRACE_SIZE_BYTES = 1000
    body = orjson.dumps({"post": [_run(uuid.uuid4(), inputs={"x": "a" * 2000})]})
    response = _post_batch(client, api_prefix, body)
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"Request body of {len(body)} bytes exceeds MAX_TRACE_SIZE_MB "
        "(1000 bytes)."
    }
    assert not Run.objects.exists()


def test_zstd_bomb_stops_at_the_decoded_cap(client, api_prefix, settings):
    settings.MAX_DECODED_SIZE_BYTES = 1024 * 1024
    bomb = zstd_stream(b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 10_000
    response = _post_multipart(client, api_prefix, bomb, content_encoding="zstd")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "decompressed body exceeds the limit of 1048576 bytes"
    }


def test_gzip_bomb_stops_at_the_decoded_cap(client, api_prefix, settings):
    settings.MAX_DECODED_SIZE_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    response = _post_batch(client, api_prefix, bomb, content_encoding="gzip")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "decompressed body exceeds the limit of 1048576 bytes"
    }


def test_truncated_zstd_is_a_400(client, api_prefix):
    body = multipart(part(f"post.{uuid.uuid4()}", _run(uuid.uuid4())))
    frame = zstd_stream(body)
    response = _post_multipart(client, api_prefix, frame[:-4], content_encoding="zstd")
    assert response.status_code == 400
    assert response.json() == {"detail": "truncated zstd body"}


def test_garbage_zstd_is_a_400(client, api_prefix):
    response = _post_multipart(client, api_prefix, b"not zstd", content_encoding="zstd")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("invalid zstd body: ")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_gzip_and_deflate_bodies_are_decoded(client, api_prefix, encoding):
    run_id = uuid.uuid4()
    raw = orjson.dumps({"post": [_run(run_id)]})
    body = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    response = _post_batch(client, api_prefix, body, content_encoding=encoding)
    assert response.status_code == 202
    assert Run.objects.filter(id=run_id).exists()


def test_truncated_gzip_is_a_400(client, api_prefix):
    body = gzip.compress(orjson.dumps({"post": [_run(uuid.uuid4())]}))
    response = _post_batch(client, api_prefix, body[:-10], content_encoding="gzip")
    assert response.status_code == 400
    assert response.json() == {"detail": "truncated gzip body"}


def test_unknown_content_encoding_is_a_415(client, api_prefix):
    response = _post_batch(client, api_prefix, b"{}", content_encoding="br")
    assert response.status_code == 415
    assert response.json() == {"detail": "unsupported Content-Encoding 'br'"}


def test_multipart_zstd_with_field_parts_is_stored(client, api_prefix):
    run_id = uuid.uuid4()
    post = _run(run_id, extra={"inline": True})
    body = multipart(
        part(f"post.{run_id}", post),
        part(f"post.{run_id}.inputs", {"q": "hi"}),
        part(f"post.{run_id}.extra", {"metadata": {"part": True}}),
        part(f"post.{run_id}.unknownfield", {"ignored": True}),
        part(f"patch.{run_id}", {"id": str(run_id), "end_time": T1, "name": None}),
        part(f"patch.{run_id}.outputs", {"a": "w"}),
        part(f"patch.{run_id}.error", "ValueError('x')"),
    )
    response = _post_multipart(
        client, api_prefix, zstd_stream(body), content_encoding="zstd"
    )
    assert response.status_code == 202
    run = Run.objects.get(id=run_id)
    assert run.inputs == {"q": "hi"}
    assert run.extra == {"metadata": {"part": True}}
    assert run.outputs == {"a": "w"}
    assert (run.name, run.status, run.error) == ("chain", "error", "ValueError('x')")


def test_multipart_run_with_a_broken_part_is_rejected_whole(client, api_prefix):
    good, bad = uuid.uuid4(), uuid.uuid4()
    body = multipart(
        part(f"post.{good}", _run(good)),
        part(f"post.{bad}", _run(bad)),
        part(f"post.{bad}.inputs", b'{"q": '),
        part(f"patch.{bad}", {"id": str(bad), "end_time": T1}),
        part(f"attachment.{bad}.img", b"\x89PNG", "image/png"),
        part(f"patch.{good}", {"id": str(good), "end_time": T1}),
    )
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "item": f"post.{bad}.inputs",
            "run_id": str(bad),
            "field": "inputs",
            "error": "malformed JSON: unexpected end of data: line 1 column 7 (char 6)",
        }
    ]
    assert list(Run.objects.values_list("id", "status")) == [(good, "success")]
    assert not Attachment.objects.exists()


def test_multipart_run_object_that_is_not_an_object_is_rejected(client, api_prefix):
    run_id = uuid.uuid4()
    response = _post_multipart(
        client, api_prefix, multipart(part(f"post.{run_id}", []))
    )
    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "item": f"post.{run_id}",
            "run_id": str(run_id),
            "field": "run",
            "error": "expected a JSON object",
        }
    ]


def test_multipart_with_a_wrong_type_names_the_part(client, api_prefix):
    run_id = uuid.uuid4()
    body = multipart(part(f"post.{run_id}", _run(run_id, start_time="soon")))
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 422
    assert response.json()["rejected"] == [
        {
            "item": f"post.{run_id}",
            "run_id": str(run_id),
            "field": "start_time",
            "error": "'soon' is not an ISO-8601 timestamp",
        }
    ]


def test_multipart_feedback_parts_are_stored(client, api_prefix):
    run_id, fb_id = uuid.uuid4(), uuid.uuid4()
    feedback = {
        "id": str(fb_id),
        "created_at": T0,
        "modified_at": T0,
        "run_id": str(run_id),
        "trace_id": str(run_id),
        "key": "helpful",
        "score": None,
        "value": "yes",
        "comment": None,
        "correction": None,
        "feedback_source": {"type": "api", "metadata": {}},
        "session_id": None,
        "extra": None,
    }
    body = multipart(
        part(f"post.{run_id}", _run(run_id)),
        part(f"feedback.{fb_id}", feedback),
    )
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 202
    assert response.json()["feedback"] == 1
    stored = Feedback.objects.get(id=fb_id)
    assert (stored.run_id, stored.trace_id, stored.key) == (run_id, run_id, "helpful")
    assert (stored.value, stored.score, stored.source["type"]) == ("yes", None, "api")


def test_multipart_bad_feedback_is_named(client, api_prefix):
    first, second = uuid.uuid4(), uuid.uuid4()
    body = multipart(
        part(f"feedback.{first}", {"key": 5}),
        part(f"feedback.{second}", b"{oops"),
        part("something.else", {}),
    )
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 422
    assert [(r["item"], r["field"]) for r in response.json()["rejected"]] == [
        (f"feedback.{second}", "feedback"),
        ("something.else", "name"),
        (f"feedback.{first}", "key"),
    ]
    assert not Feedback.objects.exists()


def test_multipart_attachments_are_stored_in_django_storage(
    client, api_prefix, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    run_id = uuid.uuid4()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    body = multipart(
        part(f"post.{run_id}", _run(run_id)),
        part(f"attachment.{run_id}.img", png, "image/png"),
    )
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 202
    assert response.json()["attachments"] == 1
    attachment = Attachment.objects.get(run_id=run_id)
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "img",
        "image/png",
        264,
    )
    first_file = tmp_path / attachment.file.name
    assert first_file.read_bytes() == png

    # A resent attachment replaces the stored one and its file.
    body = multipart(part(f"attachment.{run_id}.img", b"new", "image/png"))
    with django_capture_on_commit_callbacks(execute=True):
        assert _post_multipart(client, api_prefix, body).status_code == 202
    attachment = Attachment.objects.get(run_id=run_id)
    assert attachment.file.read() == b"new"
    assert not first_file.exists()


def test_multipart_bad_attachment_names_are_rejected(
    client, api_prefix, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    body = multipart(
        part("attachment.nope.img", b"x", "image/png"),
        part(f"attachment.{uuid.uuid4()}", b"x", "image/png"),
    )
    response = _post_multipart(client, api_prefix, body)
    assert response.status_code == 422
    assert [(r["item"], r["field"]) for r in response.json()["rejected"]] == [
        ("attachment.nope.img", "run_id"),
        (response.json()["rejected"][1]["item"], "attachment"),
    ]
    assert not Attachment.objects.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b"--x\r\n", "multipart/form-data", "multipart body without a boundary"),
        (b"nothing", MULTIPART_TYPE, "multipart body has no part"),
        (
            b"--114bc61a3148469497456716f475c76a\r\nContent-Type: a\r\n",
            MULTIPART_TYPE,
            "multipart part without a header end",
        ),
        (
            b"--114bc61a3148469497456716f475c76a\r\n\r\n{}",
            MULTIPART_TYPE,
            "truncated multipart body (no closing boundary)",
        ),
        (
            b"--114bc61a3148469497456716f475c76aXX",
            MULTIPART_TYPE,
            "malformed multipart boundary line",
        ),
    ],
)
def test_malformed_multipart_is_a_400(client, api_prefix, body, content_type, detail):
    response = client.post(
        f"{api_prefix}/runs/multipart", data=body, content_type=content_type
    )
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_post_runs_derives_trace_and_dotted_order(client, api_prefix):
    run_id = uuid.uuid4()
    response = client.post(
        f"{api_prefix}/runs",
        data=orjson.dumps(_run(run_id, attachments={}, tags=["direct"])),
        content_type="application/json",
    )
    assert response.status_code == 202
    read = client.get(f"{api_prefix}/runs/{run_id}").json()
    assert read["trace_id"] == str(run_id)
    assert read["dotted_order"] == f"20261125T134022427839Z{run_id}"
    assert (read["status"], read["tags"], read["parent_run_id"]) == (
        "running",
        ["direct"],
        None,
    )


def test_patch_run_with_nulls_keeps_what_was_posted(client, api_prefix):
    run_id = uuid.uuid4()
    client.post(
        f"{api_prefix}/runs",
        data=orjson.dumps(_run(run_id, tags=["t"], extra={"metadata": {"a": 1}})),
        content_type="application/json",
    )
    patch = {
        "id": str(run_id),
        "name": None,
        "run_type": None,
        "trace_id": None,
        "parent_run_id": None,
        "dotted_order": None,
        "tags": None,
        "extra": None,
        "session_id": None,
        "session_name": None,
        "end_time": T1,
        "outputs": {"a": "y"},
    }
    response = client.patch(
        f"{api_prefix}/runs/{run_id}",
        data=orjson.dumps(patch),
        content_type="application/json",
    )
    assert response.status_code == 202
    read = client.get(f"{api_prefix}/runs/{run_id}").json()
    assert (read["name"], read["run_type"], read["tags"]) == ("chain", "chain", ["t"])
    assert (read["extra"], read["outputs"]) == ({"metadata": {"a": 1}}, {"a": "y"})
    assert read["status"] == "success"


def test_patch_run_url_id_wins_over_the_body(client, api_prefix):
    run_id = uuid.uuid4()
    response = client.patch(
        f"{api_prefix}/runs/{run_id}",
        data=orjson.dumps({"end_time": T1}),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert Run.objects.get(id=run_id).end_time is not None


def test_get_run_lists_children_in_order(client, api_prefix):
    root, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _post_batch(
        client,
        api_prefix,
        {
            "post": [
                _run(root),
                _run(second, parent_run_id=str(root), start_time=T1),
                _run(first, parent_run_id=str(root)),
            ]
        },
    )
    read = client.get(f"{api_prefix}/runs/{root}").json()
    assert read["child_run_ids"] == [str(first), str(second)]
    assert client.get(f"{api_prefix}/runs/{uuid.uuid4()}").status_code == 404
