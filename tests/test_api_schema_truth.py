"""Focused checks of the OpenAPI document (the fuzz test covers the rest)."""

import pytest


@pytest.fixture
def schema(client, settings):
    def load(require_auth: bool) -> dict:
        settings.REQUIRE_AUTH = require_auth
        return client.get("/api/schema/?format=json").json()

    return load


def _op(document, path, method):
    return document["paths"][f"/api/v1{path}"][method]


def test_either_key_header_is_enough(schema):
    operation = _op(schema(True), "/runs/query", "post")
    # The dashboard's signed-in session (CSRF-checked) is a third alternative.
    assert operation["security"] == [
        {"ApiKeyHeader": []},
        {"BearerKey": []},
        {"cookieAuth": []},
    ]
    assert _op(schema(False), "/runs/query", "post")["security"][-1] == {}


def test_lists_are_documented_as_arrays(schema):
    document = schema(True)
    for path in ("/sessions", "/feedback"):
        body = _op(document, path, "get")["responses"]["200"]["content"]
        assert body["application/json"]["schema"]["type"] == "array"


def test_export_documents_its_three_media_types(schema):
    content = _op(schema(True), "/export/runs", "get")["responses"]["200"]["content"]
    assert set(content) == {"application/x-ndjson", "application/json", "text/csv"}


def test_errors_and_typed_bounded_parameters_are_documented(schema):
    operation = _op(schema(True), "/sessions", "get")
    assert {"400", "401", "404"} <= set(operation["responses"])
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert params["include_stats"] == {"type": "boolean"}
    assert params["id"] == {
        "type": "array",
        "items": {"type": "string", "format": "uuid"},
    }
    assert "401" not in _op(schema(True), "/info", "get")["responses"]
