"""Agent addresses decide the project in the one ingest service, whatever the wire."""

import uuid

import orjson
import pytest

from runs.apikeys import create_api_key
from runs.models import Project, Run
from tests.factories import ProjectFactory
from tests.test_otel_api import CHILD, ROOT, export, pb_span, post, rpc_status

pytestmark = pytest.mark.django_db

LRN = "lrn:agents/support-bot/environments/production"


def batch(client, api_prefix, posts, patches=(), **extra):
    return client.post(
        f"{api_prefix}/runs/batch",
        orjson.dumps({"post": list(posts), "patch": list(patches)}),
        content_type="application/json",
        **extra,
    )


def run(name, **fields):
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "run_type": "chain",
        "start_time": "2026-11-30T10:00:00+00:00",
        "inputs": {},
        **fields,
    }


def test_an_address_names_one_project_and_a_project_name_beats_it(client, api_prefix):
    a, b = run("a", address=LRN), run("b", address=LRN)
    named = run("named", address=LRN, session_name="explicit")
    assert batch(client, api_prefix, [a, b, named]).status_code == 202
    patched = batch(client, api_prefix, [], [{"id": a["id"], "outputs": {"x": 1}}])
    assert patched.status_code == 202
    project = Project.objects.get(agent_id="support-bot")
    assert (project.name, project.agent_environment, project.kind) == (
        "support-bot/production",
        "production",
        "AGENT",
    )
    assert sorted(Run.objects.values_list("name", "project__name")) == [
        ("a", "support-bot/production"),
        ("b", "support-bot/production"),
        ("named", "explicit"),
    ]
    assert Run.objects.get(name="a").outputs == {"x": 1}


def test_an_agent_project_does_not_take_a_plain_projects_name(client, api_prefix):
    ProjectFactory(name="support-bot/production")
    batch(client, api_prefix, [run("a", address=LRN)])
    agent = Project.objects.get(agent_id="support-bot")
    assert agent.name.startswith("support-bot/production-")
    assert Run.objects.get().project == agent


@pytest.mark.parametrize(
    "address",
    [
        "lrn:agents/Support/environments/production",
        "lrn:agents/support-bot/environments/moon",
        "agents/support-bot",
        42,
    ],
)
def test_a_bad_address_is_rejected_naming_it_and_the_rest_kept(
    client, api_prefix, address
):
    response = batch(client, api_prefix, [run("bad", address=address), run("good")])
    assert response.status_code == 422
    assert response.json()["rejected"][0]["field"] == "address"
    assert list(Run.objects.values_list("name", flat=True)) == ["good"]


def test_a_scoped_key_writes_to_an_agent_project_only_if_it_is_its_own(
    client, api_prefix
):
    key = create_api_key(name="team", project="mine").key
    refused = batch(client, api_prefix, [run("a", address=LRN)], HTTP_X_API_KEY=key)
    assert refused.status_code == 403
    assert not Run.objects.exists()


def test_otlp_agent_headers_address_every_span(client):
    body = export(
        pb_span(ROOT, attrs={"langsmith.trace.session_name": "from-span"}),
        pb_span(CHILD, ROOT),
    )
    post(
        client,
        body,
        HTTP_LANGSMITH_AGENT_ID="support-bot",
        HTTP_LANGSMITH_AGENT_ENVIRONMENT="STAGING",
    )
    assert set(Run.objects.values_list("project__name", flat=True)) == {
        "support-bot/staging"
    }


@pytest.mark.parametrize(
    ("agent_id", "environment", "why"),
    [
        ("Bad Id", "production", "the agent id must be"),
        ("support-bot", "", "the environment must be one of"),
    ],
)
def test_a_bad_otlp_agent_header_refuses_the_export_naming_the_headers(
    client, agent_id, environment, why
):
    body = export(pb_span(ROOT))
    response = post(
        client,
        body,
        HTTP_LANGSMITH_AGENT_ID=agent_id,
        HTTP_LANGSMITH_AGENT_ENVIRONMENT=environment,
    )
    assert response.status_code == 400
    message = rpc_status(response).message
    assert message.startswith("Langsmith-Agent-Id / Langsmith-Agent-Environment: ")
    assert why in message
    assert not Run.objects.exists()
