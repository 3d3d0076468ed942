"""What each tracing vocabulary calls a run's type, model, tokens and metadata.

LangSmith's own OTel attributes, OpenInference, the GenAI semantic conventions
and OpenLLMetry name the same things differently; the tables list them in
order of trust. Readers that consume an attribute add its key to ``used``.
"""

from __future__ import annotations

from typing import Any

from runs.otel import messages as msg

OPENINFERENCE_KINDS = {
    "LLM": "llm",
    "CHAIN": "chain",
    "TOOL": "tool",
    "RETRIEVER": "retriever",
    "RERANKER": "retriever",
    "EMBEDDING": "embedding",
    "PROMPT": "prompt",
    "AGENT": "chain",
    "GUARDRAIL": "chain",
    "EVALUATOR": "chain",
}
TRACELOOP_KINDS = {
    "workflow": "chain",
    "task": "chain",
    "agent": "chain",
    "tool": "tool",
}
GENAI_OPERATIONS = {
    "chat": "llm",
    "text_completion": "llm",
    "completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "embedding": "embedding",
    "execute_tool": "tool",
    "retrieval": "retriever",
    "retrieve": "retriever",
}
LLM_REQUEST_TYPES = {"chat": "llm", "completion": "llm", "embedding": "embedding"}
RUN_TYPES = {"llm", "chain", "tool", "retriever", "embedding", "prompt", "parser"}

MODEL_KEYS = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
    "llm.response.model_name",
    "llm.request.model_name",
    "llm.response.model",
    "llm.request.model",
    "embedding.model_name",
)
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
INPUT_TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
)
OUTPUT_TOKEN_KEYS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
TOTAL_TOKEN_KEYS = (
    "gen_ai.usage.total_tokens",
    "llm.token_count.total",
    "llm.usage.total_tokens",
)
# Token details, each included in the input or output count above.
CACHE_READ_KEYS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
CACHE_WRITE_KEYS = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
)
REASONING_KEYS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
)
# Costs the instrumentation computed (OpenInference), in US dollars.
COST_KEYS = {
    "llm.cost.prompt": "input_cost",
    "llm.cost.completion": "output_cost",
    "llm.cost.total": "total_cost",
}
# Conversation / user ids of each vocabulary, named as LangSmith's threads expect.
METADATA_IDS = {
    "session.id": "session_id",
    "gen_ai.conversation.id": "conversation_id",
    "user.id": "user_id",
}
INPUT_VALUE_KEYS = (
    "gen_ai.prompt",  # LangSmith SDK: the run's inputs as JSON
    "input.value",
    "traceloop.entity.input",
    "gen_ai.tool.call.arguments",
)
OUTPUT_VALUE_KEYS = (
    "gen_ai.completion",
    "output.value",
    "traceloop.entity.output",
    "gen_ai.tool.call.result",
)


def first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value not in (None, ""):
            return value
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def run_type(attrs: dict[str, Any]) -> str:
    kind = attrs.get("langsmith.span.kind")
    if isinstance(kind, str) and kind.lower() in RUN_TYPES:
        return kind.lower()
    for key, table in (
        ("openinference.span.kind", OPENINFERENCE_KINDS),
        ("traceloop.span.kind", TRACELOOP_KINDS),
        ("gen_ai.operation.name", GENAI_OPERATIONS),
        ("llm.request.type", LLM_REQUEST_TYPES),
    ):
        value = attrs.get(key)
        if isinstance(value, str):
            found = table.get(
                value.upper() if key.startswith("openinference") else value
            )
            if found:
                return found
    if first(attrs, MODEL_KEYS) or first(attrs, PROVIDER_KEYS):
        return "llm"
    return "chain"


def metadata(
    attrs: dict[str, Any], groups: dict[str, dict[str, Any]], used: set[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    raw = msg.parse_json(attrs.get("metadata"))
    if isinstance(raw, dict):
        used.add("metadata")
        out.update(raw)
    for prefix in ("traceloop.association.properties.", "langsmith.metadata."):
        for key, value in msg.flat_group(groups[prefix], prefix, used).items():
            out[key] = msg.parse_json(value)
    for key, name in METADATA_IDS.items():
        if key in attrs:
            used.add(key)
            out.setdefault(name, attrs[key])
    return out


def tags(attrs: dict[str, Any], used: set[str]) -> list[str]:
    found: list[str] = []
    value = attrs.get("tag.tags")
    if isinstance(value, list):
        used.add("tag.tags")
        found.extend(str(t) for t in value)
    value = attrs.get("langsmith.span.tags")
    if isinstance(value, str):
        used.add("langsmith.span.tags")
        found.extend(t.strip() for t in value.split(",") if t.strip())
    return list(dict.fromkeys(found))


def usage(attrs: dict[str, Any]) -> dict[str, int] | None:
    prompt = _int(first(attrs, INPUT_TOKEN_KEYS))
    completion = _int(first(attrs, OUTPUT_TOKEN_KEYS))
    total = _int(first(attrs, TOTAL_TOKEN_KEYS))
    if prompt is None and completion is None and total is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    found: dict[str, Any] = {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": total if total is not None else prompt + completion,
    }
    # LangChain's usage_metadata shape, which the ingest service prices.
    details = {
        name: value
        for name, keys in (
            ("cache_read", CACHE_READ_KEYS),
            ("cache_creation", CACHE_WRITE_KEYS),
        )
        if (value := _int(first(attrs, keys)))
    }
    if details:
        found["input_token_details"] = details
    reasoning = _int(first(attrs, REASONING_KEYS))
    if reasoning:
        found["output_token_details"] = {"reasoning": reasoning}
    for key, name in COST_KEYS.items():
        value = attrs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = value
    return found
