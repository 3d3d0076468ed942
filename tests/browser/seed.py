"""Traces for the browser tests, written straight to the test database."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from runs.ingest.normalize import segment
from runs.models import Run
from tests.factories import ProjectFactory, RunFactory

XSS = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
    '<a href="javascript:window.__xss=1">click</a> {{ 7*7 }}'
)


def lc(cls: str, **kwargs) -> dict:
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "messages", cls],
        "kwargs": kwargs,
    }


def agent_trace(
    name: str = "weather-agent",
    *,
    project: str = "demo",
    status: str = "success",
    ago: float = 60,
    question: str = "What is the weather in Oslo?",
) -> tuple[Run, Run, Run]:
    """A chain with an LLM call (chat in and tool call out) and a tool run."""
    start = timezone.now() - timedelta(seconds=ago)
    proj = ProjectFactory(name=project)
    root = RunFactory(
        name=name,
        project=proj,
        status=status,
        start_time=start,
        end_time=start + timedelta(seconds=3),
        inputs={"question": question},
        tags=["prod"],
    )
    llm = RunFactory(
        parent=root,
        project=proj,
        name="ChatOpenAI",
        run_type="llm",
        start_time=start + timedelta(milliseconds=200),
        end_time=start + timedelta(milliseconds=1700),
        model_name="gpt-4o-mini",
        total_tokens=96,
        prompt_tokens=80,
        completion_tokens=16,
        inputs={
            "messages": [
                [
                    lc("SystemMessage", content="You are a weather agent."),
                    lc("HumanMessage", content=question),
                ]
            ]
        },
        outputs={
            "generations": [
                [
                    {
                        "text": "",
                        "message": lc(
                            "AIMessage",
                            content="",
                            tool_calls=[
                                {
                                    "name": "get_weather",
                                    "args": {"city": "Oslo"},
                                    "id": "call_1",
                                }
                            ],
                        ),
                    }
                ]
            ]
        },
    )
    tool = RunFactory(
        parent=llm,
        project=proj,
        name="get_weather",
        run_type="tool",
        status="error" if status == "error" else "success",
        error="TimeoutError: upstream" if status == "error" else None,
        start_time=start + timedelta(milliseconds=1800),
        end_time=start + timedelta(milliseconds=2900),
        inputs={"city": "Oslo"},
        outputs={"output": "-3C, snow"},
    )
    return root, llm, tool


def xss_trace() -> tuple[Run, Run]:
    root = RunFactory(name=XSS, inputs={"q": XSS}, outputs={"a": XSS}, tags=[XSS])
    llm = RunFactory(
        parent=root,
        name="llm " + XSS,
        run_type="llm",
        error=XSS,
        inputs={"messages": [{"role": "user", "content": XSS}]},
        outputs={
            "messages": [
                {
                    "role": "assistant",
                    "content": XSS,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {
                                "name": XSS,
                                "arguments": '{"x": "' + "y" + '"}',
                            },
                        }
                    ],
                }
            ]
        },
        extra={"metadata": {XSS: XSS}},
    )
    return root, llm


def big_trace(total: int = 10_000, fanout: int = 4) -> Run:
    """One trace of ``total`` runs: a ``fanout``-ary tree (depth ~log4(total))."""
    start = timezone.now() - timedelta(hours=1)
    root = RunFactory(
        name=f"big-{total}", start_time=start, end_time=start + timedelta(seconds=60)
    )
    runs, parents = [], [root]
    for i in range(total - 1):
        parent = parents[i // fanout]
        run_id = uuid.uuid4()
        at = start + timedelta(milliseconds=5 * i)
        run = Run(
            id=run_id,
            trace_id=root.trace_id,
            parent=parent,
            project=root.project,
            name=f"step-{i}",
            run_type=("chain", "llm", "tool", "retriever")[i % 4],
            status="success",
            start_time=at,
            end_time=at + timedelta(milliseconds=20 + i % 500),
            inputs={"i": i},
            outputs={"o": i},
            total_tokens=i % 100,
            dotted_order=f"{parent.dotted_order}.{segment(at, run_id)}",
        )
        runs.append(run)
        parents.append(run)
    Run.objects.bulk_create(runs, batch_size=1000)
    return root
