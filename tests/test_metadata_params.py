"""``metadata_key``/``metadata_value``: one metadata entry, in RunFilter, the
traces page's URL and the roots API, matching what the filter language says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.query.filters import InvalidFilter, filter_runs
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

XSS = '"><script>window.__xss=1</script>'


def run(name: str, metadata: dict | None, ago: int = 60):
    start = timezone.now() - timedelta(seconds=ago)
    extra = {} if metadata is None else {"metadata": metadata}
    return RunFactory(
        name=name,
        project=ProjectFactory(name="shop"),
        start_time=start,
        end_time=start + timedelta(seconds=1),
        extra=extra,
    )


@pytest.fixture
def shop():
    run("alice", {"user_id": "alice", "tier": "gold"}, ago=10)
    run("bob", {"user_id": "bob", "tier": 7}, ago=20)
    run("crossed", {"user_id": "gold", "tier": "alice"}, ago=30)
    run("bare", None, ago=40)


def names(params: dict) -> list[str]:
    return [r.name for r in filter_runs(params)]


def test_no_run_matches_when_there_are_none():
    assert names({"metadata_key": "user_id"}) == []


def test_a_key_alone_finds_the_runs_that_have_it(shop):
    assert names({"metadata_key": "tier"}) == ["alice", "bob", "crossed"]
    assert names({"metadata_key": "nobody"}) == []


def test_key_and_value_must_be_one_entry(shop):
    assert names({"metadata_key": "user_id", "metadata_value": "alice"}) == ["alice"]
    assert names({"metadata_key": "tier", "metadata_value": "alice"}) == ["crossed"]
    assert names({"metadata_key": "tier", "metadata_value": "bob"}) == []


def test_a_value_alone_finds_it_under_any_key_and_numbers_match_as_text(shop):
    assert names({"metadata_value": "gold"}) == ["alice", "crossed"]
    assert names({"metadata_value": "7"}) == ["bob"]
    assert names({"metadata_key": "tier", "metadata_value": "7"}) == ["bob"]


def test_the_parameters_select_what_the_filter_language_selects(shop):
    for key, value in (("tier", ""), ("user_id", "alice"), ("", "gold")):
        params = {"metadata_key": key, "metadata_value": value}
        parts = [f'eq(metadata_key, "{key}")'] * bool(key)
        parts += [f'eq(metadata_value, "{value}")'] * bool(value)
        expression = f"and({', '.join(parts)})"
        assert names(params) == names({"filter": expression}), expression


def test_overlong_values_are_refused_by_name():
    with pytest.raises(InvalidFilter) as exc:
        filter_runs({"metadata_key": "k" * 256, "metadata_value": "v" * 1001})
    assert sorted(exc.value.errors) == ["metadata_key", "metadata_value"]


def test_the_traces_page_filters_by_metadata_from_its_url(client, shop):
    response = client.get(
        "/traces", {"metadata_key": "user_id", "metadata_value": "alice"}
    )
    assert [row["name"] for row in response.context["rows"]] == ["alice"]
    html = response.content.decode()
    assert 'name="metadata_key" value="user_id"' in html
    assert 'name="metadata_value" value="alice"' in html
    # Paging links and the queue form keep the filter.
    assert response.context["params"].urlencode() == (
        "metadata_key=user_id&metadata_value=alice"
    )
    many = client.get("/traces", {"metadata_key": "tier"}).context["rows"]
    assert [row["name"] for row in many] == ["alice", "bob", "crossed"]


def test_metadata_values_typed_in_the_form_are_escaped(client, shop):
    run("hostile", {XSS: XSS})
    response = client.get("/traces", {"metadata_key": XSS, "metadata_value": XSS})
    html = response.content.decode()
    assert [row["name"] for row in response.context["rows"]] == ["hostile"]
    assert "<script>window.__xss" not in html
    escaped = "&quot;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;"
    assert f'name="metadata_key" value="{escaped}"' in html


def test_the_roots_api_takes_the_same_parameters(client, shop, api_prefix):
    url = f"{api_prefix}/dashboard/runs/roots"
    body = client.get(url, {"metadata_key": "tier", "metadata_value": "gold"}).json()
    assert [r["name"] for r in body["runs"]] == ["alice"]
    refused = client.get(url, {"metadata_key": "k" * 256})
    assert refused.status_code == 400
    assert list(refused.json()) == ["metadata_key"]
