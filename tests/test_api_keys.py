import hashlib
import uuid
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from runs.api.auth import ApiKey as Identity
from runs.api.auth import limit_to_scope
from runs.apikeys import create_api_key, find_active_key, revoke_api_keys
from runs.models import ApiKey, Run
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth_on(settings):
    settings.REQUIRE_AUTH = True
    settings.API_KEYS = ["env-secret-key"]
    return settings


def run_payload(session_name=None, **extra):
    run = {
        "id": str(uuid.uuid4()),
        "name": "r",
        "run_type": "chain",
        "start_time": "2026-11-25T12:00:00Z",
        "inputs": {"q": "hi"},
        **extra,
    }
    if session_name is not None:
        run["session_name"] = session_name
    return run


def post_batch(client, api_prefix, runs, headers=None):
    return client.post(
        f"{api_prefix}/runs/batch",
        data=orjson.dumps({"post": runs}),
        content_type="application/json",
        headers=headers or {},
    )


def test_created_key_is_stored_only_as_its_sha256_digest():
    new = create_api_key(name="ci")
    stored = ApiKey.objects.get()
    assert new.key.startswith("as_") and len(new.key) > 40
    assert stored.key_hash == hashlib.sha256(new.key.encode()).hexdigest()
    assert stored.prefix == new.key[:12]
    assert new.key not in {stored.name, stored.prefix, stored.key_hash}


def test_scoped_key_creates_its_missing_project():
    new = create_api_key(name="team", project="team-a", read_only=True)
    assert new.project_created is True
    assert (new.api_key.project.name, new.api_key.read_only) == ("team-a", True)


def test_missing_key_is_refused_with_401_and_stores_nothing(
    client, auth_on, api_prefix
):
    response = post_batch(client, api_prefix, [run_payload("demo")])
    assert response.status_code == 401
    assert Run.objects.count() == 0


@pytest.mark.parametrize("key", ["wrong", "as_" + "x" * 43])
def test_wrong_key_is_refused_with_401(client, auth_on, api_prefix, key):
    response = post_batch(client, api_prefix, [run_payload()], {"x-api-key": key})
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key."
    assert Run.objects.count() == 0


def test_revoked_key_is_refused_with_401(client, auth_on, api_prefix):
    new = create_api_key(name="old")
    revoke_api_keys(name_or_prefix="old")
    response = post_batch(client, api_prefix, [run_payload()], {"x-api-key": new.key})
    assert response.status_code == 401
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        lambda k: {"x-api-key": k},
        lambda k: {"X-API-KEY": k},
        lambda k: {"X-Api-Key": k},
        lambda k: {"Authorization": f"Bearer {k}"},
        lambda k: {"Authorization": f"bearer {k}"},
    ],
    ids=["x-api-key", "X-API-KEY", "X-Api-Key", "Bearer", "bearer"],
)
def test_stored_key_is_accepted_in_every_header_form(
    client, auth_on, api_prefix, header
):
    new = create_api_key(name="ci")
    response = post_batch(client, api_prefix, [run_payload("demo")], header(new.key))
    assert response.status_code == 202
    assert Run.objects.get().project.name == "demo"


def test_environment_key_keeps_working(client, auth_on, api_prefix):
    response = post_batch(
        client,
        api_prefix,
        [run_payload("demo")],
        {"Authorization": "Bearer env-secret-key"},
    )
    assert response.status_code == 202
    assert Run.objects.count() == 1


def test_info_and_health_stay_open_with_auth_on(client, auth_on, api_prefix):
    assert client.get(f"{api_prefix}/info").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/health/live").status_code == 200


def test_read_only_key_cannot_ingest(client, auth_on, api_prefix):
    new = create_api_key(name="viewer", read_only=True)
    response = post_batch(client, api_prefix, [run_payload()], {"x-api-key": new.key})
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This API key is read-only; it cannot ingest or change data."
    )
    assert Run.objects.count() == 0


def test_read_only_key_can_read_a_run(client, auth_on, api_prefix):
    run = RunFactory()
    new = create_api_key(name="viewer", read_only=True)
    response = client.get(f"{api_prefix}/runs/{run.id}", headers={"x-api-key": new.key})
    assert response.status_code == 200
    assert response.json()["id"] == str(run.id)


def test_read_only_key_cannot_patch_a_run(client, auth_on, api_prefix):
    run = RunFactory(status=Run.Status.RUNNING, end_time=None)
    new = create_api_key(name="viewer", read_only=True)
    response = client.patch(
        f"{api_prefix}/runs/{run.id}",
        data=orjson.dumps({"end_time": "2026-11-25T12:00:05Z"}),
        content_type="application/json",
        headers={"x-api-key": new.key},
    )
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.end_time is None


def test_scoped_key_writes_to_its_project(client, auth_on, api_prefix):
    new = create_api_key(name="a", project="team-a")
    response = post_batch(
        client, api_prefix, [run_payload("team-a")], {"x-api-key": new.key}
    )
    assert response.status_code == 202
    assert Run.objects.get().project.name == "team-a"


def test_scoped_key_puts_runs_without_project_in_its_project(
    client, auth_on, api_prefix
):
    new = create_api_key(name="a", project="team-a")
    response = post_batch(client, api_prefix, [run_payload()], {"x-api-key": new.key})
    assert response.status_code == 202
    assert Run.objects.get().project.name == "team-a"


def test_scoped_key_is_refused_another_project_with_403(client, auth_on, api_prefix):
    new = create_api_key(name="a", project="team-a")
    response = post_batch(
        client, api_prefix, [run_payload("team-b")], {"x-api-key": new.key}
    )
    assert response.status_code == 403
    assert response.json()["rejected"][0]["error"] == (
        "This API key may only write to project 'team-a'."
    )
    assert Run.objects.count() == 0


def test_scoped_key_is_refused_another_project_by_session_id(
    client, auth_on, api_prefix
):
    other = ProjectFactory(name="team-b")
    new = create_api_key(name="a", project="team-a")
    run = run_payload(session_id=str(other.id))
    response = post_batch(client, api_prefix, [run], {"x-api-key": new.key})
    assert response.status_code == 403
    assert Run.objects.count() == 0


def test_scoped_key_accepts_its_own_project_by_session_id(client, auth_on, api_prefix):
    new = create_api_key(name="a", project="team-a")
    run = run_payload(session_id=str(new.api_key.project_id))
    response = post_batch(client, api_prefix, [run], {"x-api-key": new.key})
    assert response.status_code == 202
    assert Run.objects.get().project_id == new.api_key.project_id


def test_scoped_key_stores_own_runs_of_a_mixed_batch_and_answers_403(
    client, auth_on, api_prefix
):
    new = create_api_key(name="a", project="team-a")
    own, other = run_payload("team-a"), run_payload("team-b")
    response = post_batch(client, api_prefix, [own, other], {"x-api-key": new.key})
    assert response.status_code == 403
    assert response.json()["accepted"] == 1
    assert [str(i) for i in Run.objects.values_list("id", flat=True)] == [own["id"]]


def test_scoped_key_cannot_patch_a_run_of_another_project(client, auth_on, api_prefix):
    run = RunFactory(
        project=ProjectFactory(name="team-b"), status="running", end_time=None
    )
    new = create_api_key(name="a", project="team-a")
    response = client.patch(
        f"{api_prefix}/runs/{run.id}",
        data=orjson.dumps({"end_time": "2026-11-25T12:00:05Z"}),
        content_type="application/json",
        headers={"x-api-key": new.key},
    )
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.end_time is None


def test_scope_applies_even_with_auth_off(client, settings, api_prefix):
    settings.REQUIRE_AUTH = False
    new = create_api_key(name="a", project="team-a")
    response = post_batch(
        client, api_prefix, [run_payload("team-b")], {"x-api-key": new.key}
    )
    assert response.status_code == 403
    assert Run.objects.count() == 0


def test_unknown_key_is_ignored_with_auth_off(client, settings, api_prefix):
    settings.REQUIRE_AUTH = False
    response = post_batch(
        client, api_prefix, [run_payload("demo")], {"x-api-key": "whatever"}
    )
    assert response.status_code == 202


def test_last_use_is_recorded_at_most_once_a_minute():
    new = create_api_key(name="ci")
    assert new.api_key.last_used_at is None
    first = find_active_key(new.key).last_used_at
    assert first is not None
    assert find_active_key(new.key).last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    assert find_active_key(new.key).last_used_at > first - timedelta(seconds=1)
    assert ApiKey.objects.get().last_used_at >= first


def test_limit_to_scope_filters_reads_to_the_key_project():
    RunFactory(project=ProjectFactory(name="team-a"))
    RunFactory(project=ProjectFactory(name="team-b"))
    request = APIRequestFactory().get("/")
    request.auth = Identity("a", project="team-a")
    scoped = limit_to_scope(request, Run.objects.all())
    assert [r.project.name for r in scoped] == ["team-a"]
    request.auth = Identity("all")
    assert limit_to_scope(request, Run.objects.all()).count() == 2


def test_unscoped_read_write_key_passes_the_project_guard():
    identity = Identity("all")
    assert identity.project_guard("anything", None) is None
    assert identity.project_guard(None, uuid.uuid4()) is None
    assert Identity("ro", read_only=True).project_guard("x", None) == (
        "This API key is read-only."
    )


def test_revoked_keys_are_not_found_and_last_use_untouched():
    new = create_api_key(name="old")
    revoke_api_keys(name_or_prefix=new.key[:12])
    assert find_active_key(new.key) is None
    key = ApiKey.objects.get()
    assert key.revoked_at is not None and key.revoked_at <= timezone.now()
    assert key.last_used_at is None
