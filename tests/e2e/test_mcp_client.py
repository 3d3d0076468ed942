"""The official MCP Python client against a live Agent Spy server over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from runs.apikeys import create_api_key
from runs.models import RunRollup
from tests.factories import ProjectFactory, RunFactory
from tests.live import ServerProcess

pytestmark = [pytest.mark.e2e]


def _json(result: Any) -> Any:
    assert result.is_error is False
    return orjson.loads(result.content[0].text)


@asynccontextmanager
async def _client(
    url: str, key: str | None = None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The official client over HTTP, with our key header.

    The transport leaves an HTTP client it was given open, so it is closed
    here (an open one warns later, in whatever test collects it).
    """
    headers = {"x-api-key": key} if key else None
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


async def _session(url: str, key: str | None = None, mode: str = "auto") -> dict:
    async with _client(url, key, mode) as client:
        tools = await client.list_tools()
        search = await client.call_tool("search_traces", {"project": "support-bot"})
        trace_id = _json(search)["traces"][0]["trace_id"]
        trace = await client.call_tool("get_trace", {"trace_id": trace_id})
        bad = await client.call_tool("get_trace", {"trace_id": "nope"})
        projects = await client.call_tool("list_projects", {})
        stats = await client.call_tool("get_stats", {"since": "24h"})
        resources = await client.list_resources()
        return {
            "version": client.protocol_version,
            "tools": [t.name for t in tools.tools],
            "search": search,
            "trace": trace,
            "bad": bad,
            "projects": projects,
            "stats": stats,
            "resources": [str(r.uri) for r in resources.resources],
        }


@pytest.fixture
def seeded(transactional_db) -> dict[str, Any]:
    # A flush between transactional tests may empty the rollups before the
    # runs, whose delete triggers then leave negative deltas behind on SQLite.
    RunRollup.objects.all().delete()
    project = ProjectFactory(name="support-bot")
    root = RunFactory(project=project, name="agent", status="error", error="boom")
    child = RunFactory(parent=root, project=project, name="lookup", run_type="tool")
    RunFactory(project=ProjectFactory(name="other"), name="elsewhere")
    return {"root": root, "child": child}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_official_client_lists_and_calls_every_tool(live_url, seeded, mode):
    got = asyncio.run(_session(live_url, mode=mode))
    assert got["version"] == "2025-11-25"
    assert got["tools"] == [
        "list_projects",
        "search_traces",
        "get_trace",
        "get_run",
        "get_stats",
        "list_threads",
        "get_thread",
    ]
    traces = _json(got["search"])["traces"]
    assert [t["name"] for t in traces] == ["agent"]
    assert traces[0]["errors"] == 1
    trace = _json(got["trace"])
    assert [(r["name"], r["depth"]) for r in trace["runs"]] == [
        ("agent", 0),
        ("lookup", 1),
    ]
    assert got["bad"].is_error is True
    assert "is not a UUID" in got["bad"].content[0].text
    names = [p["name"] for p in _json(got["projects"])["projects"]]
    assert sorted(names) == ["other", "support-bot"]
    assert _json(got["stats"])["runs"] == 3
    assert got["resources"] == [
        "agentspy://projects/other",
        "agentspy://projects/support-bot",
    ]


def test_official_client_gets_a_run_whole(live_url, seeded):
    async def go() -> Any:
        async with _client(live_url) as client:
            return await client.call_tool(
                "get_run", {"run_id": str(seeded["child"].id)}
            )

    run = asyncio.run(go())
    assert run.is_error is False
    assert orjson.loads(run.content[0].text)["name"] == "lookup"
    assert _json(run)["parent_run_id"] == str(seeded["root"].id)


def test_scoped_key_and_required_auth_through_the_client(live_server_process, seeded):
    key = create_api_key(name="other-team", project="other").key
    with ServerProcess(env={"REQUIRE_AUTH": "true"}) as server:

        async def scoped() -> list[str]:
            async with _client(server.url, key) as client:
                result = await client.call_tool("search_traces", {})
                return [t["name"] for t in _json(result)["traces"]]

        assert asyncio.run(scoped()) == ["elsewhere"]

        async def anonymous() -> None:
            async with _client(server.url, mode="legacy") as client:
                await client.list_tools()

        # The client cannot connect without a key: the server answers 401
        # before any MCP handling, which the client reports as an MCPError.
        with pytest.raises(ExceptionGroup) as caught:
            asyncio.run(anonymous())
        assert caught.group_contains(MCPError)
        refused = httpx.post(
            f"{server.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert refused.status_code == 401
        assert refused.json() == {
            "detail": "Authentication credentials were not provided."
        }
