"""The HTTP side of the decoders: body caps and the plain JSON parser."""

import io
import uuid

import pytest
from rest_framework.exceptions import ParseError

from runs.api.errors import PayloadTooLarge
from runs.api.parsers import ORJSONParser, read_body
from runs.ingest import ingest, service
from runs.ingest.batch import AttachmentPart, Batch
from runs.models import Attachment, Run


def test_a_body_longer_than_its_declared_length_is_still_capped(settings):
    settings.MAX_TRACE_SIZE_BYTES = 10
    with pytest.raises(PayloadTooLarge, match="Request body exceeds 10 bytes."):
        read_body(io.BytesIO(b"x" * 50), {"CONTENT_LENGTH": "nonsense"})


def test_json_parser_reads_objects_and_names_bad_json(rf):
    request = rf.post("/x", data=b"", content_type="application/json")
    context = {"request": request}
    parser = ORJSONParser()
    assert parser.parse(io.BytesIO(b""), parser_context=context) == {}
    assert parser.parse(io.BytesIO(b'{"a": [1]}'), parser_context=context) == {"a": [1]}
    with pytest.raises(ParseError, match="malformed JSON"):
        parser.parse(io.BytesIO(b"{"), parser_context=context)


@pytest.mark.django_db
def test_a_failed_write_removes_the_attachment_files_it_saved(
    monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    run_id = uuid.uuid4()
    batch = Batch()
    batch.add_run("post", {"id": str(run_id), "name": "x"}, item="post")
    batch.attachments.append(AttachmentPart(str(run_id), "img", "image/png", b"png"))

    def fail(params):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.store, "upsert_params", fail)
    with pytest.raises(RuntimeError):
        ingest(batch)
    # The file was written, then removed with the folders it had made.
    assert list(tmp_path.iterdir()) == []
    assert not Attachment.objects.exists()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_project_guard_refuses_runs_aimed_elsewhere_and_keeps_the_others():
    allowed, refused, unnamed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def guard(name, project_id):
        return None if name == "mine" else f"not {name}"

    batch = Batch(default_project="mine")
    batch.add_run("post", {"id": str(allowed), "session_name": "mine"}, item="a")
    batch.add_run("post", {"id": str(refused), "session_name": "theirs"}, item="b")
    batch.add_run("post", {"id": str(unnamed)}, item="c")
    result = ingest(batch, project_guard=guard)
    assert result.accepted == [allowed, unnamed]
    assert [(r.run_id, r.field, r.message) for r in result.rejected] == [
        (str(refused), "session_name", "not theirs")
    ]
    assert set(Run.objects.values_list("project__name", flat=True)) == {"mine"}
