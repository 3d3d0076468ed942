"""Real OTel exporters, each in its own process (OTel state is global)."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest

from runs.models import Run

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_script(source: str, **env: str) -> dict:
    """Run ``source`` in a fresh interpreter; it prints one JSON object last."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LANGSMITH", "LANGCHAIN", "OTEL"))
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_uuid(trace_hex: str, span_hex: str) -> uuid.UUID:
    return uuid.UUID(span_hex + trace_hex[16:])


def sdk_script(url: str) -> str:
    return f"""
    import json
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind, Status, StatusCode

    provider = TracerProvider(resource=Resource.create({{"service.name": "checkout"}}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint="{url}/v1/traces", compression=Compression.Gzip
            )
        )
    )
    tracer = provider.get_tracer("shop.agent", "3.1")
    ids = {{}}
    with tracer.start_as_current_span(
        "invoke_agent planner", kind=SpanKind.SERVER,
        attributes={{"gen_ai.operation.name": "invoke_agent",
                     "gen_ai.agent.name": "planner", "session.id": "s-42"}},
    ) as root:
        ids["trace"] = format(root.get_span_context().trace_id, "032x")
        ids["root"] = format(root.get_span_context().span_id, "016x")
        with tracer.start_as_current_span(
            "chat gpt-4o", kind=SpanKind.CLIENT,
            attributes={{
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 21,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.input.messages": json.dumps(
                    [{{"role": "user", "parts": [{{"type": "text", "content": "Hi"}}]}}]
                ),
                "gen_ai.output.messages": json.dumps(
                    [{{"role": "assistant",
                       "parts": [{{"type": "text", "content": "Hello!"}}],
                       "finish_reason": "stop"}}]
                ),
            }},
        ) as llm:
            ids["llm"] = format(llm.get_span_context().span_id, "016x")
        with tracer.start_as_current_span(
            "execute_tool refund",
            attributes={{"gen_ai.operation.name": "execute_tool",
                         "gen_ai.tool.name": "refund"}},
        ) as tool:
            ids["tool"] = format(tool.get_span_context().span_id, "016x")
            try:
                raise RuntimeError("card declined")
            except RuntimeError as exc:
                tool.record_exception(exc)
                tool.set_status(Status(StatusCode.ERROR, "refund failed"))
    provider.force_flush()
    provider.shutdown()
    ids["instance"] = provider.resource.attributes["service.instance.id"]
    print(json.dumps(ids))
    """


def test_opentelemetry_sdk_exports_gzip_protobuf_into_a_tree(live_url):
    ids = run_script(sdk_script(live_url))
    trace = ids["trace"]
    runs = {run.name: run for run in Run.objects.all()}
    assert set(runs) == {"invoke_agent planner", "chat gpt-4o", "execute_tool refund"}
    root = runs["invoke_agent planner"]
    llm = runs["chat gpt-4o"]
    tool = runs["execute_tool refund"]
    assert (root.id, root.parent_id, root.trace_id) == (
        run_uuid(trace, ids["root"]),
        None,
        uuid.UUID(trace),
    )
    assert (llm.id, llm.parent_id) == (run_uuid(trace, ids["llm"]), root.id)
    assert (tool.id, tool.parent_id) == (run_uuid(trace, ids["tool"]), root.id)
    assert [r.name for r in Run.objects.order_by("dotted_order")] == [
        "invoke_agent planner",
        "chat gpt-4o",
        "execute_tool refund",
    ]
    assert {r.project.name for r in runs.values()} == {"checkout"}
    assert (root.run_type, root.status, root.extra["metadata"]["session_id"]) == (
        "chain",
        "success",
        "s-42",
    )
    assert llm.run_type == "llm"
    assert llm.inputs == {"messages": [{"role": "user", "content": "Hi"}]}
    assert llm.outputs == {
        "messages": [
            {"role": "assistant", "content": "Hello!", "finish_reason": "stop"}
        ]
    }
    assert (
        llm.model_name,
        llm.model_provider,
        llm.prompt_tokens,
        llm.completion_tokens,
        llm.total_tokens,
    ) == ("gpt-4o", "openai", 21, 5, 26)
    assert llm.extra == {
        "metadata": {
            "ls_model_name": "gpt-4o",
            "ls_provider": "openai",
            "usage_metadata": {
                "input_tokens": 21,
                "output_tokens": 5,
                "total_tokens": 26,
            },
            "otel": {
                "trace_id": trace,
                "span_id": ids["llm"],
                "parent_span_id": ids["root"],
                "kind": "SPAN_KIND_CLIENT",
                "status": {"code": "STATUS_CODE_UNSET", "message": ""},
                "scope": {"name": "shop.agent", "version": "3.1", "attributes": {}},
                "resource": {
                    "telemetry.sdk.language": "python",
                    "telemetry.sdk.name": "opentelemetry",
                    "telemetry.sdk.version": version("opentelemetry-sdk"),
                    "service.instance.id": ids["instance"],
                    "service.name": "checkout",
                },
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 21,
                    "gen_ai.usage.output_tokens": 5,
                },
                "flags": 256,
            },
        }
    }
    assert tool.run_type == "tool"
    assert tool.status == "error"
    assert tool.error.startswith(
        "refund failed\n\nRuntimeError: card declined\n\nTraceback (most recent call"
    )
    # Type and message once, then the stack (whose last line repeated them).
    assert tool.error.count("RuntimeError: card declined") == 1
    assert tool.error.endswith('raise RuntimeError("card declined")')
    assert [e["name"] for e in tool.events] == ["exception"]
    assert tool.events[0]["kwargs"]["exception.message"] == "card declined"


def langsmith_script() -> str:
    return """
    import json
    from langsmith import traceable, get_current_run_tree
    from langsmith.run_trees import get_cached_client
    from opentelemetry import trace

    ids = {}

    @traceable(run_type="llm", name="fake-llm",
               metadata={"ls_model_name": "gpt-test", "ls_provider": "openai"})
    def llm(prompt):
        ids["llm"] = str(get_current_run_tree().id)
        return {"choices": [{"message": {"role": "assistant", "content": "42"}}],
                "usage_metadata": {"input_tokens": 9, "output_tokens": 2,
                                   "total_tokens": 11}}

    @traceable(run_type="chain", name="answer", tags=["otel-mode"],
               metadata={"team": "ml"})
    def answer(question):
        ids["root"] = str(get_current_run_tree().id)
        ids["trace"] = str(get_current_run_tree().trace_id)
        return llm(question)["choices"][0]["message"]["content"]

    answer("What is 6*7?")
    get_cached_client().flush()
    trace.get_tracer_provider().force_flush()
    print(json.dumps(ids))
    """


def test_langsmith_sdk_otel_mode_builds_the_same_tree(live_url, api_prefix):
    run_script(
        langsmith_script(),
        LANGSMITH_TRACING="true",
        LANGSMITH_TRACING_MODE="otel",
        LANGSMITH_ENDPOINT=f"{live_url}{api_prefix}",
        LANGSMITH_API_KEY="test-key",
        LANGSMITH_PROJECT="ls-otel",
    )
    # The SDK's spans carry fresh OTel ids, not its run ids (langsmith 0.15.1).
    root = Run.objects.get(parent__isnull=True)
    child = Run.objects.get(parent__isnull=False)
    assert (child.parent_id, child.trace_id) == (root.id, root.trace_id)
    assert child.dotted_order.startswith(root.dotted_order + ".")
    assert {root.project.name, child.project.name} == {"ls-otel"}
    assert (root.name, root.run_type, root.tags) == ("answer", "chain", ["otel-mode"])
    assert root.inputs == {"question": "What is 6*7?"}
    assert root.outputs == {"output": "42"}
    assert root.extra["metadata"]["team"] == "ml"
    assert (child.name, child.run_type) == ("fake-llm", "llm")
    assert child.inputs == {"prompt": "What is 6*7?"}
    assert child.outputs["choices"] == [
        {"message": {"role": "assistant", "content": "42"}}
    ]
    assert (
        child.model_name,
        child.model_provider,
        child.prompt_tokens,
        child.completion_tokens,
        child.total_tokens,
    ) == ("gpt-test", "openai", 9, 2, 11)
    assert {root.status, child.status} == {"success"}


def openinference_script(url: str) -> str:
    return f"""
    import json
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from openinference.instrumentation.langchain import LangChainInstrumentor
    from langchain_core.language_models.fake_chat_models import (
        FakeMessagesListChatModel,
    )
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    provider = TracerProvider(
        resource=Resource.create({{"openinference.project.name": "oi-demo"}})
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint="{url}/v1/traces"))
    )
    LangChainInstrumentor().instrument(tracer_provider=provider)
    reply = AIMessage(
        content="Paris",
        usage_metadata={{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}},
        tool_calls=[{{"id": "call_1", "name": "lookup", "args": {{"q": "France"}}}}],
    )
    llm = FakeMessagesListChatModel(responses=[reply])
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are terse."), ("human", "Capital of {{country}}?")]
    )
    chain = prompt | llm | StrOutputParser()
    answer = chain.invoke({{"country": "France"}})
    provider.force_flush()
    provider.shutdown()
    print(json.dumps({{"answer": answer}}))
    """


def test_openinference_langchain_instrumentation_on_a_fake_model(live_url):
    assert run_script(openinference_script(live_url)) == {"answer": "Paris"}
    runs = list(Run.objects.order_by("dotted_order"))
    assert [(r.name, r.run_type, r.status) for r in runs] == [
        ("RunnableSequence", "chain", "success"),
        ("ChatPromptTemplate", "prompt", "success"),
        ("FakeMessagesListChatModel", "llm", "success"),
        ("StrOutputParser", "chain", "success"),
    ]
    root = runs[0]
    assert [r.parent_id for r in runs] == [None, root.id, root.id, root.id]
    assert {r.trace_id for r in runs} == {root.trace_id}
    assert {r.project.name for r in runs} == {"oi-demo"}
    assert (root.inputs, root.outputs) == ({"input": "France"}, {"output": "Paris"})
    llm = runs[2]
    assert llm.inputs == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Capital of France?"},
        ]
    }
    assert llm.outputs == {
        "messages": [
            {
                "role": "assistant",
                "content": "Paris",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "France"}'},
                    }
                ],
            }
        ]
    }
    assert (
        llm.prompt_tokens,
        llm.completion_tokens,
        llm.total_tokens,
        llm.model_provider,
    ) == (12, 3, 15, "fakemessageslistchatmodel")
    metadata = dict(llm.extra["metadata"])
    otel = metadata.pop("otel")
    assert metadata == {
        "ls_provider": "fakemessageslistchatmodel",
        "ls_model_type": "chat",
        "ls_integration": "langchain_chat_model",
        "lc_versions": {"langchain-core": "1.8.3"},
        "usage_metadata": {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
    }
    # The serialised LangChain input and output were not used for a run field.
    assert sorted(otel["attributes"]) == [
        "input.mime_type",
        "input.value",
        "llm.provider",
        "llm.token_count.completion",
        "llm.token_count.prompt",
        "llm.token_count.total",
        "openinference.span.kind",
        "output.mime_type",
        "output.value",
    ]
    assert llm.extra["invocation_params"] == {
        "_type": "fake-messages-list-chat-model",
        "stop": None,
    }
    assert otel["scope"] == {
        "name": "openinference.instrumentation.langchain",
        "version": version("openinference-instrumentation-langchain"),
        "attributes": {},
    }
