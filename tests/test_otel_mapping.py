import uuid
from datetime import UTC, datetime

import orjson

from runs.otel.decode import Span
from runs.otel.mapping import named_project, run_id, service_project, span_to_run
from runs.otel.vocab import run_type

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT = bytes.fromhex("b7ad6b7169203331")
CHILD = bytes.fromhex("00f067aa0ba902b7")
START = 1_764_072_000_123_456_789  # 2025-11-25T12:00:00.123456789Z
RESOURCE = {"service.name": "shop"}
SCOPE = {"name": "demo", "version": "1.0", "attributes": {}}


def make_span(attributes=None, **fields) -> Span:
    values = {
        "trace_id": TRACE,
        "span_id": CHILD,
        "parent_span_id": ROOT,
        "name": "op",
        "kind": 1,
        "start_ns": START,
        "end_ns": START + 2_000_000_000,
        "attributes": attributes or {},
        "events": [],
        "links": [],
        "status_code": 0,
        "status_message": "",
        "resource": RESOURCE,
        "scope": SCOPE,
    }
    values.update(fields)
    return Span(**values)


def test_run_id_is_span_id_then_trace_id_tail():
    assert run_id(TRACE, CHILD) == uuid.UUID("00f067aa-0ba9-02b7-8448-eb211c80319c")


def test_plain_span_maps_ids_times_and_keeps_everything_in_otel_metadata():
    span = make_span(
        {"http.method": "GET", "count": 3},
        trace_state="k=v",
        flags=256,
        links=[{"trace_id": "ab" * 16, "span_id": "cd" * 8, "attributes": {}}],
        dropped={"events": 2},
    )
    run = span_to_run(span)
    assert run == {
        "id": uuid.UUID("00f067aa-0ba9-02b7-8448-eb211c80319c"),
        "trace_id": uuid.UUID("0af76519-16cd-43dd-8448-eb211c80319c"),
        "parent_run_id": uuid.UUID("b7ad6b71-6920-3331-8448-eb211c80319c"),
        "name": "op",
        "run_type": "chain",
        "start_time": datetime(2025, 11, 25, 12, 0, 0, 123456, tzinfo=UTC),
        "end_time": datetime(2025, 11, 25, 12, 0, 2, 123456, tzinfo=UTC),
        "inputs": {},
        "outputs": None,
        "error": None,
        "extra": {
            "metadata": {
                "otel": {
                    "trace_id": "0af7651916cd43dd8448eb211c80319c",
                    "span_id": "00f067aa0ba902b7",
                    "parent_span_id": "b7ad6b7169203331",
                    "kind": "SPAN_KIND_INTERNAL",
                    "status": {"code": "STATUS_CODE_UNSET", "message": ""},
                    "scope": SCOPE,
                    "resource": RESOURCE,
                    "attributes": {"http.method": "GET", "count": 3},
                    "links": [
                        {"trace_id": "ab" * 16, "span_id": "cd" * 8, "attributes": {}}
                    ],
                    "trace_state": "k=v",
                    "flags": 256,
                    "dropped": {"events": 2},
                }
            }
        },
        "events": [],
        "tags": [],
    }


def test_root_span_has_no_parent():
    run = span_to_run(make_span(span_id=ROOT, parent_span_id=b""))
    assert run["parent_run_id"] is None
    assert run["extra"]["metadata"]["otel"]["parent_span_id"] is None


def test_openinference_llm_span_becomes_openai_messages_tokens_and_model():
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.provider": "openai",
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.type": "text",
        "llm.input_messages.1.message.contents.0.message_content.text": "Look at ",
        "llm.input_messages.1.message.contents.1.message_content.type": "text",
        "llm.input_messages.1.message.contents.1.message_content.text": "this",
        "llm.input_messages.2.message.role": "tool",
        "llm.input_messages.2.message.content": "42",
        "llm.input_messages.2.message.tool_call_id": "call_0",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "",
        "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "add",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": (
            '{"a": 1}'
        ),
        "llm.token_count.prompt": 10,
        "llm.token_count.completion": 4,
        "llm.token_count.total": 14,
        "llm.invocation_parameters": '{"temperature": 0}',
        "input.value": "raw",
        "session.id": "conv-1",
        "user.id": "u-7",
        "metadata": '{"tenant": "acme"}',
        "tag.tags": ["a", "b"],
    }
    run = span_to_run(make_span(attrs))
    assert run["run_type"] == "llm"
    assert run["inputs"] == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Look at this"},
            {"role": "tool", "content": "42", "tool_call_id": "call_0"},
        ]
    }
    assert run["outputs"] == {
        "messages": [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 1}'},
                    }
                ],
            }
        ]
    }
    metadata = run["extra"]["metadata"]
    otel = metadata.pop("otel")
    assert metadata == {
        "tenant": "acme",
        "session_id": "conv-1",
        "user_id": "u-7",
        "ls_model_name": "gpt-4o-mini",
        "ls_provider": "openai",
        "usage_metadata": {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14},
    }
    assert run["extra"]["invocation_params"] == {"temperature": 0}
    assert run["tags"] == ["a", "b"]
    # Not used for a run field, so kept with its value.
    assert otel["attributes"] == {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.provider": "openai",
        "llm.token_count.prompt": 10,
        "llm.token_count.completion": 4,
        "llm.token_count.total": 14,
        "input.value": "raw",
    }


def test_genai_semconv_json_messages_with_parts():
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-x",
        "gen_ai.response.model": "claude-x-2026",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.conversation.id": "thread-9",
        "gen_ai.system_instructions": '[{"type": "text", "content": "Sys."}]',
        "gen_ai.input.messages": orjson.dumps(
            [
                {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
                {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": "c1",
                            "name": "weather",
                            "arguments": {"city": "Paris"},
                        }
                    ],
                },
                {
                    "role": "tool",
                    "parts": [
                        {"type": "tool_call_response", "id": "c1", "response": "rain"}
                    ],
                },
            ]
        ).decode(),
        "gen_ai.output.messages": orjson.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "Rainy."}],
                    "finish_reason": "stop",
                }
            ]
        ).decode(),
    }
    run = span_to_run(make_span(attrs))
    assert run["run_type"] == "llm"
    assert run["inputs"] == {
        "messages": [
            {"role": "system", "content": "Sys."},
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {
                            "name": "weather",
                            "arguments": '{"city":"Paris"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "rain"},
        ]
    }
    assert run["outputs"] == {
        "messages": [
            {"role": "assistant", "content": "Rainy.", "finish_reason": "stop"}
        ]
    }
    metadata = run["extra"]["metadata"]
    assert (
        metadata["ls_model_name"],
        metadata["ls_provider"],
        metadata["conversation_id"],
        metadata["usage_metadata"],
    ) == (
        "claude-x-2026",
        "anthropic",
        "thread-9",
        {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9},
    )


def test_genai_message_events_of_older_instrumentations():
    def event(name, **attributes):
        return {"name": name, "time_ns": START, "attributes": attributes}

    span = make_span(
        {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4"},
        events=[
            event("gen_ai.system.message", content="Sys."),
            event("gen_ai.user.message", content="Hi"),
            event(
                "gen_ai.assistant.message",
                content="",
                tool_calls='[{"id": "t1", "type": "function", "function": '
                '{"name": "f", "arguments": "{}"}}]',
            ),
            event("gen_ai.tool.message", content="done", id="t1"),
            event(
                "gen_ai.choice",
                index=0,
                finish_reason="stop",
                message='{"role": "assistant", "content": "Bye"}',
            ),
        ],
    )
    run = span_to_run(span)
    assert run["run_type"] == "llm"
    assert run["inputs"]["messages"] == [
        {"role": "system", "content": "Sys."},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "f", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "content": "done", "tool_call_id": "t1"},
    ]
    assert run["outputs"]["messages"] == [
        {"role": "assistant", "content": "Bye", "index": 0, "finish_reason": "stop"}
    ]
    assert [e["name"] for e in run["events"]] == [
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
    ]
    assert run["events"][0] == {
        "name": "gen_ai.system.message",
        "time": "2025-11-25T12:00:00.123456+00:00",
        "kwargs": {"content": "Sys."},
    }


def test_genai_content_events_with_json_prompt_and_completion():
    span = make_span(
        {"gen_ai.operation.name": "chat"},
        events=[
            {
                "name": "gen_ai.content.prompt",
                "time_ns": START,
                "attributes": {"gen_ai.prompt": '[{"role": "user", "content": "Q"}]'},
            },
            {
                "name": "gen_ai.content.completion",
                "time_ns": START,
                "attributes": {
                    "gen_ai.completion": '[{"role": "assistant", "content": "A"}]'
                },
            },
        ],
    )
    run = span_to_run(span)
    assert run["inputs"] == {"messages": [{"role": "user", "content": "Q"}]}
    assert run["outputs"] == {"messages": [{"role": "assistant", "content": "A"}]}


def test_openllmetry_indexed_prompt_and_completion():
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.system": "OpenAI",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "2+2?",
        "gen_ai.prompt.1.role": "tool",
        "gen_ai.prompt.1.content": "4",
        "gen_ai.prompt.1.tool_call_id": "x1",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "4",
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.completion.0.tool_calls.0.id": "x2",
        "gen_ai.completion.0.tool_calls.0.name": "calc",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"e": "2+2"}',
        "gen_ai.usage.prompt_tokens": 5,
        "gen_ai.usage.completion_tokens": 1,
        "llm.usage.total_tokens": 6,
        "traceloop.association.properties.user_id": "u1",
        "gen_ai.prompt.name": "not-an-index",
    }
    run = span_to_run(make_span(attrs))
    assert run["run_type"] == "llm"
    assert run["inputs"] == {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "tool", "content": "4", "tool_call_id": "x1"},
        ]
    }
    assert run["outputs"] == {
        "messages": [
            {
                "role": "assistant",
                "content": "4",
                "tool_calls": [
                    {
                        "id": "x2",
                        "type": "function",
                        "function": {"name": "calc", "arguments": '{"e": "2+2"}'},
                    }
                ],
                "finish_reason": "stop",
            }
        ]
    }
    metadata = run["extra"]["metadata"]
    assert metadata["usage_metadata"] == {
        "input_tokens": 5,
        "output_tokens": 1,
        "total_tokens": 6,
    }
    assert metadata["user_id"] == "u1"
    assert metadata["otel"]["attributes"]["gen_ai.prompt.name"] == "not-an-index"


def test_openllmetry_workflow_span_reads_entity_input_and_output():
    attrs = {
        "traceloop.span.kind": "workflow",
        "traceloop.entity.name": "joke",
        "traceloop.entity.input": '{"args": [], "kwargs": {"topic": "owls"}}',
        "traceloop.entity.output": '"An owl walks into a bar"',
    }
    run = span_to_run(make_span(attrs, name="joke.workflow"))
    assert (run["name"], run["run_type"]) == ("joke.workflow", "chain")
    assert run["inputs"] == {"args": [], "kwargs": {"topic": "owls"}}
    assert run["outputs"] == {"output": "An owl walks into a bar"}


def test_langsmith_otel_attributes_keep_the_sdk_payloads():
    attrs = {
        "langsmith.span.kind": "retriever",
        "langsmith.trace.name": "search",
        "langsmith.trace.session_name": "proj-a",
        "langsmith.metadata.team": "ml",
        "langsmith.metadata.config": '{"k": 3}',
        "langsmith.span.tags": "x, y",
        "gen_ai.operation.name": "retriever",
        "gen_ai.system": "langchain",
        "gen_ai.prompt": '{"query": "owls"}',
        "gen_ai.completion": '{"documents": []}',
    }
    run = span_to_run(make_span(attrs, name="search"))
    assert (run["name"], run["run_type"], run["tags"]) == (
        "search",
        "retriever",
        ["x", "y"],
    )
    assert run["inputs"] == {"query": "owls"}
    assert run["outputs"] == {"documents": []}
    metadata = run["extra"]["metadata"]
    assert (metadata["team"], metadata["config"], metadata["ls_provider"]) == (
        "ml",
        {"k": 3},
        "langchain",
    )
    assert named_project(make_span(attrs)) == "proj-a"


def test_input_value_without_json_mime_type_stays_text():
    run = span_to_run(
        make_span(
            {
                "openinference.span.kind": "TOOL",
                "input.value": '{"looks": "like json"}',
                "output.value": '{"a": 1}',
                "output.mime_type": "application/json",
            }
        )
    )
    assert run["run_type"] == "tool"
    assert run["inputs"] == {"input": '{"looks": "like json"}'}
    assert run["outputs"] == {"a": 1}


def test_genai_tool_span_reads_call_arguments_and_result():
    run = span_to_run(
        make_span(
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "weather",
                "gen_ai.tool.call.arguments": '{"city": "Oslo"}',
                "gen_ai.tool.call.result": "snow",
            }
        )
    )
    assert run["run_type"] == "tool"
    assert run["inputs"] == {"city": "Oslo"}
    assert run["outputs"] == {"output": "snow"}
    assert run["extra"]["metadata"]["otel"]["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "weather",
    }


def test_run_type_from_each_vocabulary():
    assert [
        run_type(attrs)
        for attrs in (
            {"openinference.span.kind": "retriever"},
            {"openinference.span.kind": "AGENT"},
            {"openinference.span.kind": "EMBEDDING"},
            {"traceloop.span.kind": "tool"},
            {"gen_ai.operation.name": "embeddings"},
            {"gen_ai.operation.name": "invoke_agent"},
            {"llm.request.type": "embedding"},
            {"gen_ai.request.model": "m"},
            {"langsmith.span.kind": "PARSER"},
            {},
        )
    ] == [
        "retriever",
        "chain",
        "embedding",
        "tool",
        "embedding",
        "chain",
        "embedding",
        "llm",
        "parser",
        "chain",
    ]


def test_error_text_has_exception_type_message_and_stacktrace():
    span = make_span(
        status_code=2,
        status_message="boom",
        events=[
            {
                "name": "exception",
                "time_ns": START,
                "attributes": {
                    "exception.type": "ValueError",
                    "exception.message": "bad value",
                    "exception.stacktrace": "Traceback...\nValueError: bad value\n",
                },
            }
        ],
    )
    assert span_to_run(span)["error"] == (
        "boom\n\nValueError: bad value\n\nTraceback..."
    )


def test_an_exception_with_its_status_description_says_type_and_message_once():
    stack = (
        "Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'x'\n"
    )
    span = make_span(
        status_code=2,
        status_message="KeyError: 'x'",
        events=[
            {
                "name": "exception",
                "time_ns": START,
                "attributes": {
                    "exception.type": "KeyError",
                    "exception.message": "'x'",
                    "exception.stacktrace": stack,
                },
            }
        ],
    )
    error = span_to_run(span)["error"]
    assert error == (
        "KeyError: 'x'\n\nTraceback (most recent call last):\n  File \"a.py\", line 1"
    )
    assert error.count("KeyError") == 1


def test_error_status_without_exception_uses_status_message_or_a_default():
    assert span_to_run(make_span(status_code=2, status_message="quota"))["error"] == (
        "quota"
    )
    assert span_to_run(make_span(status_code=2))["error"] == "Error"


def test_exception_event_on_an_ok_span_is_not_an_error():
    span = make_span(
        status_code=1,
        events=[{"name": "exception", "time_ns": 0, "attributes": {}}],
    )
    run = span_to_run(span)
    assert run["error"] is None
    assert run["events"] == [{"name": "exception", "time": None, "kwargs": {}}]


def test_exception_event_on_an_unset_span_is_an_error():
    span = make_span(
        events=[
            {
                "name": "exception",
                "time_ns": START,
                "attributes": {"exception.type": "KeyError"},
            }
        ]
    )
    assert span_to_run(span)["error"] == "KeyError"


def test_project_named_by_span_then_resource_and_service_name_apart():
    assert named_project(make_span({"langsmith.project": "p1"})) == "p1"
    oi = make_span(resource={"openinference.project.name": "p2"})
    assert named_project(oi) == "p2"
    assert named_project(make_span()) is None
    assert service_project(make_span(resource={"service.name": "svc"})) == "svc"
    unnamed = make_span(resource={"service.name": "unknown_service:python"})
    assert service_project(unnamed) is None
    assert service_project(make_span(resource={})) is None
