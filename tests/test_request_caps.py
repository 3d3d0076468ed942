"""What one request can make the server allocate is capped, and said so."""

import time
import uuid

import orjson
import pytest

from runs.ingest.batch import MAX_ITEMS, MAX_LISTED_REJECTIONS
from runs.models import Run
from tests.e2e.wire import MULTIPART_TYPE, multipart, part

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22+00:00"


def test_a_million_empty_items_is_a_quick_small_413(client, api_prefix):
    body = b'{"post": [' + b",".join([b"{}"] * 1_000_000) + b"]}"
    client.post(f"{api_prefix}/runs/batch", b"{}", content_type="application/json")
    started = time.monotonic()  # after the first request's imports
    response = client.post(
        f"{api_prefix}/runs/batch", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert len(response.content) < 300
    assert "at most" in response.json()["detail"]
    assert time.monotonic() - started < 1
    assert not Run.objects.exists()


def test_more_items_than_the_cap_is_a_413_naming_the_count(client, api_prefix):
    items = [{"id": str(uuid.uuid4())} for _ in range(MAX_ITEMS + 1)]
    response = client.post(
        f"{api_prefix}/runs/batch",
        orjson.dumps({"patch": items}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith(f"{MAX_ITEMS + 1} items")


def test_a_multipart_body_over_the_cap_is_a_413(client, api_prefix):
    parts = [part(f"post.{uuid.uuid4()}", {}) for _ in range(MAX_ITEMS + 1)]
    response = client.post(
        f"{api_prefix}/runs/multipart", multipart(*parts), content_type=MULTIPART_TYPE
    )
    assert response.status_code == 413
    assert not Run.objects.exists()


def test_rejections_are_listed_up_to_a_limit_and_counted(client, api_prefix):
    bad = [{"id": str(uuid.uuid4()), "start_time": "soon"} for _ in range(500)]
    good = {"id": str(uuid.uuid4()), "name": "ok", "start_time": T0}
    response = client.post(
        f"{api_prefix}/runs/batch",
        orjson.dumps({"post": [*bad, good]}),
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert (len(body["rejected"]), body["rejected_count"]) == (
        MAX_LISTED_REJECTIONS,
        500,
    )
    assert body["accepted"] == 1
    assert Run.objects.get().name == "ok"
