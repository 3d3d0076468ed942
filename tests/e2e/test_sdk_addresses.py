"""Agent addresses on every write path, resolved back by langsmith 0.15."""

import uuid
from datetime import UTC, datetime

import pytest
from langsmith import Client, agent_address, traceable, tracing_context
from langsmith._exceptions import NotFoundError
from langsmith.schemas import RunBase

from runs.models import Project, Run
from tests.e2e.quiet_sdk import no_sdk_warnings, run_async
from tests.e2e.sdk import run_script, tracing_env
from tests.e2e.test_otel_exporters import langsmith_script
from tests.e2e.test_otel_exporters import run_script as run_otel_script

pytestmark = pytest.mark.e2e


def _run(name: str, address: dict) -> dict:
    run_id = uuid.uuid4()
    start = datetime.now(UTC)
    return {
        "id": run_id,
        "trace_id": run_id,
        "dotted_order": start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id),
        "name": name,
        "run_type": "chain",
        "inputs": {"q": name},
        "start_time": start,
        "address": address,
    }


def test_every_write_path_lands_in_one_project_per_address(
    live_url, api_prefix, caplog
):
    url = f"{live_url}{api_prefix}"
    production = agent_address("support-bot", "production")
    tracer = Client(api_url=url, api_key="k")

    @traceable(address=production, client=tracer)
    def handle(order: str) -> str:
        return f"handled {order}"

    direct = Client(api_url=url, api_key="k", auto_batch_tracing=False)
    with no_sdk_warnings(caplog):
        with tracing_context(enabled=True):
            handle("o-1")
        tracer.flush()
        direct.create_run(
            "single",
            {"q": 1},
            "chain",
            address=agent_address("support-bot", "PRODUCTION"),
        )
        direct.batch_ingest_runs(create=[_run("batch", production)])
        direct.multipart_ingest(create=[_run("multipart", production)])
        direct.create_run(
            "staging",
            {"q": 2},
            "chain",
            address=agent_address("support-bot", "staging"),
        )

        def resolve():
            async def scenario():
                found = await direct.sessions.resolve(
                    kind="AGENT", id="support-bot", environment="PRODUCTION"
                )
                try:
                    await direct.sessions.resolve(
                        kind="AGENT", id="no-such-bot", environment="PRODUCTION"
                    )
                except NotFoundError:
                    return found, True
                return found, False

            return run_async(direct, scenario)

        found, unknown_is_404 = resolve()
    agents = Project.objects.exclude(agent_id="").order_by("agent_environment")
    assert [(p.agent_id, p.agent_environment, p.name) for p in agents] == [
        ("support-bot", "production", "support-bot/production"),
        ("support-bot", "staging", "support-bot/staging"),
    ]
    production_project = agents[0]
    assert sorted(
        Run.objects.filter(project=production_project).values_list("name", flat=True)
    ) == ["batch", "handle", "multipart", "single"]
    assert found.session_id == str(production_project.id)
    assert unknown_is_404 is True
    assert not Project.objects.filter(name="default").exists()


def test_agent_environment_variables_address_traceable_runs(live_url, api_prefix):
    env = tracing_env(f"{live_url}{api_prefix}", "unused", spelling="LANGSMITH")
    del env["LANGSMITH_PROJECT"]
    env.update(LANGSMITH_AGENT_ID="billing-agent", LANGSMITH_AGENT_ENVIRONMENT="local")
    run_script("traceable.py", env)
    project = Project.objects.get(agent_id="billing-agent")
    assert (project.agent_environment, project.name) == ("local", "billing-agent/local")
    assert Run.objects.filter(project=project).count() > 0
    assert set(Run.objects.values_list("project_id", flat=True)) == {project.id}


def test_otlp_agent_headers_address_the_export(live_url, api_prefix):
    run_otel_script(
        langsmith_script(),
        LANGSMITH_TRACING="true",
        LANGSMITH_TRACING_MODE="otel",
        LANGSMITH_ENDPOINT=f"{live_url}{api_prefix}",
        LANGSMITH_API_KEY="test-key",
        LANGSMITH_AGENT_ID="support-bot",
        LANGSMITH_AGENT_ENVIRONMENT="development",
    )
    project = Project.objects.get(agent_id="support-bot")
    assert project.agent_environment == "development"
    assert sorted(Run.objects.values_list("name", "project_id")) == [
        ("answer", project.id),
        ("fake-llm", project.id),
    ]


def test_get_run_url_resolves_a_runs_address(live_url, api_prefix, caplog):
    client = Client(
        api_url=f"{live_url}{api_prefix}", api_key="k", auto_batch_tracing=False
    )
    address = agent_address("support-bot", "staging")
    run = _run("addressed", address)
    client.batch_ingest_runs(create=[dict(run)])
    project = Project.objects.get(agent_id="support-bot")
    # A run as the tracer holds it: no project id, only its address.
    traced = RunBase(
        id=run["id"],
        name="addressed",
        start_time=run["start_time"],
        run_type="chain",
        inputs={},
    )
    with no_sdk_warnings(caplog, allow_deprecations=True):
        url = client.get_run_url(run=traced, address=address)
    assert url.endswith(f"/projects/p/{project.id}/r/{run['id']}?poll=true")
