"""LLM runs as langchain-core's tracer sends them, for the cost tests.

``outputs`` is ``LLMResult.model_dump()`` (what ``LangChainTracer`` stores
when a chat model ends); ``extra.metadata`` carries the ``ls_provider`` and
``ls_model_name`` each LangChain chat model integration sets.
"""

import uuid
from typing import Any

from langchain_core.load import dumpd
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from runs.ingest import ingest
from runs.ingest.batch import Batch

T0 = "2026-11-25T13:40:22.427839+00:00"
T1 = "2026-11-25T13:40:23.000000+00:00"


def chat_outputs(usage: dict[str, Any], text: str = "Paris.") -> dict[str, Any]:
    """What ``_complete_llm_run`` stores: the result with dumpd() messages."""
    message = AIMessage(content=text, usage_metadata=usage)
    outputs = LLMResult(generations=[[ChatGeneration(message=message)]]).model_dump()
    outputs["generations"][0][0]["message"] = dumpd(message)
    return outputs


def llm_run(
    *,
    provider: str,
    model: str,
    usage: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    run_id: uuid.UUID | None = None,
    trace_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    **extra: Any,
) -> dict[str, Any]:
    run_id = run_id or uuid.uuid4()
    trace_id = trace_id or run_id
    metadata: dict[str, Any] = {"ls_provider": provider, "ls_model_name": model}
    if usage:  # LangChainTracer._on_llm_end copies it here too
        metadata["usage_metadata"] = usage
    dotted = f"20261125T134022427839Z{trace_id}"
    if parent_id:
        dotted += f".20261125T134022427840Z{run_id}"
    return {
        "id": str(run_id),
        "trace_id": str(trace_id),
        "parent_run_id": str(parent_id) if parent_id else None,
        "dotted_order": dotted,
        "name": "ChatModel",
        "run_type": "llm",
        "start_time": T0,
        "end_time": T1,
        "inputs": {"messages": [[{"role": "user", "content": "Capital of France?"}]]},
        "outputs": outputs if outputs is not None else chat_outputs(usage or {}),
        "extra": {
            "invocation_params": {"model": model},
            "metadata": metadata,
        },
        "session_name": "costs",
        **extra,
    }


def chain_run(run_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(run_id),
        "trace_id": str(run_id),
        "dotted_order": f"20261125T134022427839Z{run_id}",
        "name": "Agent",
        "run_type": "chain",
        "start_time": T0,
        "end_time": T1,
        "inputs": {"question": "Capital of France?"},
        "outputs": {"output": "Paris."},
        "session_name": "costs",
        **extra,
    }


def post(*runs: dict[str, Any]) -> None:
    batch = Batch()
    for index, raw in enumerate(runs):
        batch.add_run("post", raw, item=f"post[{index}]")
    ingest(batch)
