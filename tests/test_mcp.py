"""The MCP endpoint: JSON-RPC over Streamable HTTP, read-only tools over traces."""

import uuid
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from runs.apikeys import create_api_key
from runs.models import Run
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

HEADERS = {"HTTP_ACCEPT": "application/json, text/event-stream"}


@pytest.fixture
def rpc(client):
    counter = iter(range(1, 10_000))

    def call(method, params=None, *, key=None, version="2025-06-18", **extra):
        message = {"jsonrpc": "2.0", "id": next(counter), "method": method}
        if params is not None:
            message["params"] = params
        headers = dict(HEADERS, **extra)
        if key:
            headers["HTTP_X_API_KEY"] = key
        if version:
            headers["HTTP_MCP_PROTOCOL_VERSION"] = version
        return client.post(
            "/mcp", orjson.dumps(message), content_type="application/json", **headers
        )

    return call


def tool(rpc, name, arguments=None, **kwargs):
    response = rpc("tools/call", {"name": name, "arguments": arguments or {}}, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()["result"]


def data(result):
    assert result["isError"] is False, result
    assert "structuredContent" not in result
    [block] = result["content"]
    assert block["type"] == "text"
    return orjson.loads(block["text"])


@pytest.fixture
def support_trace():
    """support-bot: a failing trace (a tool error under an LLM call) and a good one."""
    now = timezone.now()
    project = ProjectFactory(name="support-bot")
    failed = RunFactory(
        project=project,
        name="agent",
        status="error",
        error="ValueError: refund service timed out",
        start_time=now - timedelta(minutes=5),
        inputs={"question": "Where is my refund?"},
        outputs=None,
    )
    llm = RunFactory(
        parent=failed,
        project=project,
        name="ChatOpenAI",
        run_type="llm",
        model_name="gpt-4o",
        prompt_tokens=100,
        completion_tokens=20,
        total_tokens=120,
        start_time=now - timedelta(minutes=5),
        outputs={"text": "x" * 60_000},
    )
    RunFactory(
        parent=llm,
        project=project,
        name="refund_lookup",
        run_type="tool",
        status="error",
        error="ValueError: refund service timed out",
        start_time=now - timedelta(minutes=5) + timedelta(seconds=1),
    )
    good = RunFactory(
        project=project, name="agent", start_time=now - timedelta(minutes=1)
    )
    return failed, llm, good


def test_initialize_negotiates_each_supported_revision(rpc):
    for version in ("2025-06-18", "2025-11-25", "2025-03-26"):
        response = rpc(
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
            version=None,
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        result = response.json()["result"]
        assert result["protocolVersion"] == version
        assert result["serverInfo"]["name"] == "agent-spy"
        assert set(result["capabilities"]) == {"tools", "resources", "prompts"}
        assert "Mcp-Session-Id" not in response


def test_initialize_offers_latest_revision_for_an_unknown_one(rpc):
    response = rpc("initialize", {"protocolVersion": "1999-01-01"}, version=None)
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"


def test_unknown_method_is_method_not_found(rpc):
    response = rpc("server/discover", {})
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32601
    assert rpc("no/such").json()["error"] == {
        "code": -32601,
        "message": "Method not found: no/such",
    }


def test_notifications_and_responses_are_accepted_without_body(client):
    for message in (
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 7, "result": {}},
    ):
        response = client.post(
            "/mcp", orjson.dumps(message), content_type="application/json"
        )
        assert response.status_code == 202
        assert response.content == b""


def test_malformed_messages_are_json_rpc_errors_not_server_errors(client):
    bad = client.post("/mcp", b"{nope", content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == -32700
    for message, code in (
        ({"id": 1, "method": "ping"}, -32600),
        ({"jsonrpc": "2.0", "id": 1}, -32600),
        ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}, -32602),
        ("just a string", -32600),
    ):
        response = client.post(
            "/mcp", orjson.dumps(message), content_type="application/json"
        )
        assert response.status_code == 200
        assert response.json()["error"]["code"] == code


def test_batch_answers_each_request_in_one_array(client):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
    ]
    response = client.post("/mcp", orjson.dumps(batch), content_type="application/json")
    assert response.json() == [
        {"jsonrpc": "2.0", "id": 1, "result": {}},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "error": {"code": -32601, "message": "Method not found: nope"},
        },
    ]
    empty = client.post("/mcp", b"[]", content_type="application/json")
    assert empty.status_code == 400


def test_unsupported_protocol_version_header_is_400(rpc):
    response = rpc("tools/list", version="2024-01-01")
    assert response.status_code == 400
    assert "Unsupported MCP-Protocol-Version" in response.json()["error"]["message"]


def test_get_and_delete_are_not_offered(client):
    assert client.get("/mcp").status_code == 405
    assert client.delete("/mcp").status_code == 405


def test_foreign_origin_is_refused(rpc, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://allowed.example"]
    assert rpc("ping", HTTP_ORIGIN="http://evil.example").status_code == 403
    assert rpc("ping", HTTP_ORIGIN="http://allowed.example").status_code == 200
    assert rpc("ping", HTTP_ORIGIN="http://testserver").status_code == 200


def test_path_is_exactly_mcp_without_slash_redirect(client):
    assert client.post("/mcp/", b"{}", content_type="application/json").status_code in (
        404,
        405,
    )


def test_tools_list_declares_read_only_tools_with_valid_schemas(rpc):
    from jsonschema import Draft202012Validator

    tools = rpc("tools/list").json()["result"]["tools"]
    assert [t["name"] for t in tools] == [
        "list_projects",
        "search_traces",
        "get_trace",
        "get_run",
        "get_stats",
        "list_threads",
        "get_thread",
    ]
    for t in tools:
        Draft202012Validator.check_schema(t["inputSchema"])
        assert t["inputSchema"]["type"] == "object"
        assert t["annotations"]["readOnlyHint"] is True
        assert t["description"]


def test_unknown_tool_is_invalid_params(rpc):
    response = rpc("tools/call", {"name": "drop_tables", "arguments": {}})
    assert response.json()["error"]["code"] == -32602


def test_list_projects_counts_runs_and_traces(rpc, support_trace):
    ProjectFactory(name="empty")
    projects = data(tool(rpc, "list_projects"))["projects"]
    assert projects[0]["name"] == "support-bot"
    assert projects[0]["run_count"] == 4
    assert projects[0]["trace_count"] == 2
    assert projects[0]["error_rate"] == 0.5
    assert projects[1] == {
        "name": "empty",
        "run_count": 0,
        "trace_count": 0,
        "error_rate": 0.0,
        "last_run_start_time": None,
    }


def test_search_traces_filters_by_status_text_and_project(rpc, support_trace):
    failed, _, good = support_trace
    RunFactory(project=ProjectFactory(name="other"), name="elsewhere")
    found = data(tool(rpc, "search_traces", {"project": "support-bot"}))
    assert [t["trace_id"] for t in found["traces"]] == [str(good.id), str(failed.id)]
    assert found["next_offset"] is None
    errors = data(tool(rpc, "search_traces", {"status": "error"}))["traces"]
    assert errors == [
        {
            "trace_id": str(failed.id),
            "name": "agent",
            "project": "support-bot",
            "status": "error",
            "start_time": failed.start_time.isoformat(),
            "latency_ms": 1000.0,
            "runs": 3,
            "errors": 2,
            "total_tokens": 120,
            "total_cost": None,
            "unpriced_llm_runs": 1,
            "error": "ValueError: refund service timed out",
            "tags": [],
        }
    ]
    by_text = data(tool(rpc, "search_traces", {"query": "refund"}))["traces"]
    assert [t["trace_id"] for t in by_text] == [str(failed.id)]
    everything = data(tool(rpc, "search_traces"))["traces"]
    assert len(everything) == 3


def test_search_traces_pages_with_offset(rpc, support_trace):
    failed, _, good = support_trace
    first = data(tool(rpc, "search_traces", {"project": "support-bot", "limit": 1}))
    assert [t["trace_id"] for t in first["traces"]] == [str(good.id)]
    assert first["next_offset"] == 1
    second = data(
        tool(rpc, "search_traces", {"project": "support-bot", "limit": 1, "offset": 1})
    )
    assert [t["trace_id"] for t in second["traces"]] == [str(failed.id)]
    assert second["next_offset"] is None


def test_bad_arguments_are_tool_errors(rpc):
    for name, arguments, text in (
        ("search_traces", {"status": "broken"}, "Invalid argument status"),
        ("search_traces", {"limit": 0}, "Invalid argument limit"),
        ("search_traces", {"nope": 1}, "Additional properties"),
        ("search_traces", {"start_time_gte": "yesterday"}, "Invalid filter"),
        ("get_trace", {}, "trace_id is required"),
        ("get_trace", {"trace_id": "not-a-uuid"}, "is not a UUID"),
        (
            "get_trace",
            {"trace_id": "00000000-0000-4000-8000-000000000000"},
            "No trace or run",
        ),
        ("get_run", {"run_id": "00000000-0000-4000-8000-000000000000"}, "No run"),
        ("get_stats", {"project": "ghost"}, "No project 'ghost'"),
        ("get_stats", {"since": "2w"}, "Invalid argument since"),
    ):
        result = tool(rpc, name, arguments)
        assert result["isError"] is True, (name, arguments)
        assert text in result["content"][0]["text"], result


def test_get_trace_lists_the_tree_depth_first_with_clipped_bodies(rpc, support_trace):
    failed, llm, _ = support_trace
    trace = data(tool(rpc, "get_trace", {"trace_id": str(failed.trace_id)}))
    assert trace["total_runs"] == 3
    assert trace["errors"] == 2
    assert trace["total_tokens"] == 120
    assert [(r["name"], r["depth"]) for r in trace["runs"]] == [
        ("agent", 0),
        ("ChatOpenAI", 1),
        ("refund_lookup", 2),
    ]
    chat = trace["runs"][1]
    assert chat["model"] == "gpt-4o"
    assert chat["parent_id"] == str(failed.id)
    assert chat["outputs"].endswith("… [+59811 chars]")
    assert len(orjson.dumps(trace)) < 3000
    # A run id opens its trace too.
    by_run = data(tool(rpc, "get_trace", {"trace_id": str(llm.id)}))
    assert by_run["trace_id"] == str(failed.trace_id)


def test_get_trace_of_a_big_trace_stays_small_and_pages(rpc):
    root = RunFactory(name="root", outputs={"text": "y" * 5000})
    for n in range(300):
        RunFactory(parent=root, name=f"step-{n:03}", outputs={"text": "z" * 5000})
    first = data(tool(rpc, "get_trace", {"trace_id": str(root.id)}))
    whole = rpc(
        "tools/call", {"name": "get_trace", "arguments": {"trace_id": str(root.id)}}
    )
    assert len(whole.content) < 20_000
    assert len(orjson.dumps(first)) < 16_500
    assert first["total_runs"] == 301
    offset = first["next_offset"]
    assert offset == len(first["runs"])
    assert (
        first["more"]
        == f"{301 - offset} more runs: call get_trace with offset={offset}."
    )
    seen = [r["name"] for r in first["runs"]]
    while offset is not None:
        page = data(
            tool(rpc, "get_trace", {"trace_id": str(root.id), "offset": offset})
        )
        seen += [r["name"] for r in page["runs"]]
        offset = page["next_offset"]
    assert seen == ["root", *[f"step-{n:03}" for n in range(300)]]


def test_get_run_returns_bodies_whole(rpc, support_trace):
    _, llm, _ = support_trace
    run = data(tool(rpc, "get_run", {"run_id": str(llm.id)}))
    assert run["outputs"] == {"text": "x" * 60_000}
    assert run["model"] == "gpt-4o"
    assert run["total_tokens"] == 120
    assert run["project"] == "support-bot"
    assert run["parent_run_id"] == str(llm.parent_id)


def test_get_run_pages_a_run_larger_than_max_chars(rpc, support_trace):
    _, llm, _ = support_trace
    text = ""
    offset = 0
    while offset is not None:
        page = data(
            tool(
                rpc,
                "get_run",
                {"run_id": str(llm.id), "max_chars": 25_000, "offset": offset},
            )
        )
        assert len(page["json_text"]) <= 25_000
        text += page["json_text"]
        offset = page["next_offset"]
    assert orjson.loads(text)["outputs"] == {"text": "x" * 60_000}
    past = tool(
        rpc, "get_run", {"run_id": str(llm.id), "offset": 10**6, "max_chars": 1000}
    )
    assert past["isError"] is True


def test_get_stats_counts_errors_and_top_failing_runs(rpc, support_trace):
    stats = data(tool(rpc, "get_stats", {"project": "support-bot", "since": "24h"}))
    assert stats["runs"] == 4
    assert stats["traces"] == 2
    assert stats["error_runs"] == 2
    assert stats["error_rate"] == 0.5
    assert stats["tokens"] == {"prompt": 100, "completion": 20, "total": 120}
    assert stats["top_errors"] == [
        {
            "name": "agent",
            "count": 1,
            "latest_error": "ValueError: refund service timed out",
        },
        {
            "name": "refund_lookup",
            "count": 1,
            "latest_error": "ValueError: refund service timed out",
        },
    ]
    everything = data(tool(rpc, "get_stats"))
    assert everything["runs"] == 4
    assert everything["since"] is None


def test_scoped_key_sees_only_its_project(rpc, support_trace):
    failed, llm, _ = support_trace
    key = create_api_key(name="other-team", project="other").key
    RunFactory(project=ProjectFactory(name="other"), name="theirs")
    projects = data(tool(rpc, "list_projects", key=key))["projects"]
    assert [p["name"] for p in projects] == ["other"]
    traces = data(tool(rpc, "search_traces", key=key))["traces"]
    assert [t["name"] for t in traces] == ["theirs"]
    for name, arguments in (
        ("get_trace", {"trace_id": str(failed.id)}),
        ("get_run", {"run_id": str(llm.id)}),
        ("get_stats", {"project": "support-bot"}),
    ):
        assert tool(rpc, name, arguments, key=key)["isError"] is True
    assert data(tool(rpc, "get_stats", key=key))["runs"] == 1


def test_auth_required_answers_401_before_mcp(rpc, settings):
    settings.REQUIRE_AUTH = True
    assert rpc("tools/list").status_code == 401
    assert rpc("tools/list", key="wrong").status_code == 401
    key = create_api_key(name="reader", read_only=True).key
    assert rpc("tools/list", key=key).status_code == 200


def test_resources_list_and_read(rpc, support_trace):
    failed, llm, _ = support_trace
    listed = rpc("resources/list").json()["result"]["resources"]
    assert listed == [
        {
            "uri": "agentspy://projects/support-bot",
            "name": "support-bot",
            "title": "Project support-bot",
            "mimeType": "application/json",
        }
    ]
    templates = rpc("resources/templates/list").json()["result"]["resourceTemplates"]
    assert [t["name"] for t in templates] == ["trace", "run", "project"]
    project = rpc("resources/read", {"uri": "agentspy://projects/support-bot"})
    content = project.json()["result"]["contents"][0]
    assert orjson.loads(content["text"])["stats"]["runs"] == 4
    trace = rpc("resources/read", {"uri": f"agentspy://traces/{failed.id}"})
    assert (
        orjson.loads(trace.json()["result"]["contents"][0]["text"])["total_runs"] == 3
    )
    run = rpc("resources/read", {"uri": f"agentspy://runs/{llm.id}"})
    assert orjson.loads(run.json()["result"]["contents"][0]["text"])["name"] == (
        "ChatOpenAI"
    )
    for uri in ("agentspy://runs/nope", "http://x", "agentspy://projects/ghost"):
        assert rpc("resources/read", {"uri": uri}).json()["error"]["code"] == -32002
    assert rpc("resources/read", {}).json()["error"]["code"] == -32602


def test_a_failing_tool_is_reported_as_a_tool_error(rpc, monkeypatch):
    from mcpserver import tools

    def broken(arguments, caller):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        tools.REGISTRY,
        "list_projects",
        tools.REGISTRY["list_projects"].__class__(
            "list_projects", "t", "d", {"type": "object"}, broken
        ),
    )
    result = tool(rpc, "list_projects")
    assert result["isError"] is True
    assert "internal error" in result["content"][0]["text"]


def test_untrusted_text_comes_back_as_data(rpc):
    RunFactory(name="<script>alert(1)</script>", error='"); DROP TABLE runs; --')
    traces = data(tool(rpc, "search_traces", {"query": "DROP TABLE"}))["traces"]
    assert traces[0]["name"] == "<script>alert(1)</script>"
    assert traces[0]["error"] == '"); DROP TABLE runs; --'


def test_a_body_over_the_cap_is_refused(client):
    from mcpserver.views import MAX_BODY_BYTES

    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "pad": "'
    body += b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/mcp", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "Request body too large."


def test_get_trace_of_a_10000_run_trace_answers_under_20_kb(rpc):
    root = RunFactory(name="root")
    start = root.start_time
    children = []
    for n in range(9_999):
        run_id = uuid.uuid4()
        children.append(
            Run(
                id=run_id,
                trace_id=root.trace_id,
                parent_id=root.id,
                project_id=root.project_id,
                name=f"step-{n}",
                run_type="tool",
                status="success",
                start_time=start,
                end_time=start,
                dotted_order=f"{root.dotted_order}.{start:%Y%m%dT%H%M%S%fZ}{run_id}",
                outputs={"text": "z" * 1000},
            )
        )
    Run.objects.bulk_create(children, batch_size=500)
    arguments = {"trace_id": str(root.id)}
    response = rpc("tools/call", {"name": "get_trace", "arguments": arguments})
    assert len(response.content) < 20_000
    answer = data(response.json()["result"])
    assert answer["total_runs"] == 10_000
    assert answer["more"].endswith(f"offset={answer['next_offset']}.")


def test_search_traces_takes_the_filter_language(rpc, support_trace):
    failed, _, good = support_trace
    tree = data(
        tool(rpc, "search_traces", {"tree_filter": 'eq(name, "refund_lookup")'})
    )
    assert [t["trace_id"] for t in tree["traces"]] == [str(failed.id)]
    roots = data(tool(rpc, "search_traces", {"filter": 'eq(status, "success")'}))
    assert [t["trace_id"] for t in roots["traces"]] == [str(good.id)]
    bad = tool(rpc, "search_traces", {"filter": "and(eq(status"})
    assert bad["isError"] is True
    assert "At position" in bad["content"][0]["text"]


@pytest.fixture
def conversation():
    """Three turns of one thread in support-bot, the second failing."""
    now = timezone.now()
    project = ProjectFactory(name="support-bot")
    turns = []
    for n, (question, answer, status) in enumerate(
        [
            ("Hi, where is my refund?", "Let me check.", "success"),
            ("It's order 4821", None, "error"),
            ("Any news?", "Refunded today.", "success"),
        ]
    ):
        turns.append(
            RunFactory(
                project=project,
                name="agent",
                status=status,
                error="timeout" if status == "error" else None,
                start_time=now - timedelta(minutes=10 - n),
                inputs={"messages": [{"role": "user", "content": question}]},
                outputs={"answer": answer} if answer else None,
                extra={"metadata": {"thread_id": "conv <1>"}},
            )
        )
    return turns


def test_list_threads_and_get_thread_walk_a_conversation(rpc, conversation):
    listed = data(tool(rpc, "list_threads", {"project": "support-bot"}))
    assert [
        (t["thread_id"], t["turns"], t["error_turns"]) for t in listed["threads"]
    ] == [("conv <1>", 3, 1)]
    assert listed["next_cursor"] is None
    first = data(
        tool(
            rpc,
            "get_thread",
            {"project": "support-bot", "thread_id": "conv <1>", "limit": 2},
        )
    )
    assert first["turns_total"] == 3
    assert [(t["user"], t["status"]) for t in first["turns"]] == [
        ("Hi, where is my refund?", "success"),
        ("It's order 4821", "error"),
    ]
    assert first["turns"][1]["error"] == "timeout"
    rest = data(
        tool(
            rpc,
            "get_thread",
            {
                "project": "support-bot",
                "thread_id": "conv <1>",
                "cursor": first["next_cursor"],
            },
        )
    )
    assert [t["trace_id"] for t in rest["turns"]] == [str(conversation[2].trace_id)]
    assert rest["next_cursor"] is None
    errors = data(
        tool(rpc, "list_threads", {"project": "support-bot", "has_errors": False})
    )
    assert errors["threads"] == []


def test_thread_tools_report_cost_and_null_when_nothing_was_priced(rpc, conversation):
    first = conversation[0]
    RunFactory(
        project=first.project,
        parent=first,
        trace_id=first.trace_id,
        run_type="llm",
        total_tokens=10,
        total_cost=0.25,
    )
    listed = data(tool(rpc, "list_threads", {"project": "support-bot"}))
    assert [t["total_cost"] for t in listed["threads"]] == [0.25]
    thread = data(
        tool(rpc, "get_thread", {"project": "support-bot", "thread_id": "conv <1>"})
    )
    assert thread["total_cost"] == 0.25
    assert [t["total_cost"] for t in thread["turns"]] == [0.25, None, None]


def test_thread_tools_refuse_bad_arguments(rpc, conversation):
    for arguments, text in (
        ({}, "project is required"),
        ({"project": "ghost"}, "No project 'ghost'"),
        ({"project": "support-bot", "cursor": "zzz"}, "Invalid cursor"),
    ):
        result = tool(rpc, "list_threads", arguments)
        assert result["isError"] is True
        assert text in result["content"][0]["text"]
    missing = tool(rpc, "get_thread", {"project": "support-bot", "thread_id": "nope"})
    assert "No thread 'nope'" in missing["content"][0]["text"]
    key = create_api_key(name="other-team", project="other").key
    scoped = tool(rpc, "list_threads", {"project": "support-bot"}, key=key)
    assert scoped["isError"] is True


def test_a_fresh_process_answers_tools_call_before_any_tools_list():
    # A stateless client's tools/call may reach a worker that has never
    # answered tools/list; the tools must be there from the start.
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup();"
        "from mcpserver import tools;"
        "print(sorted(tools.REGISTRY))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "agentspy.settings",
            "DATABASE_URL": "sqlite:///:memory:",
        },
    )
    assert done.stdout.strip() == str(
        sorted(
            [
                "get_run",
                "get_stats",
                "get_thread",
                "get_trace",
                "list_projects",
                "list_threads",
                "search_traces",
            ]
        )
    ), done.stderr
