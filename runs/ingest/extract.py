"""Read token counts, model and first-token time out of a run's payloads.

SDKs and integrations put these in different places; the order below is the
order of trust: an explicit usage block beats a guess from invocation params.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from runs.ingest.normalize import InvalidField, parse_time

Tokens = tuple[int, int, int]


class Usage(NamedTuple):
    """Token counts of one LLM call, and the costs its client reported.

    ``prompt`` includes the cached and cache-write tokens, ``completion`` the
    reasoning tokens (LangChain's convention): the details are subsets.
    """

    prompt: int
    completion: int
    total: int
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    input_audio: int = 0
    output_audio: int = 0
    # Of ``cache_write``, tokens cached for an hour (Anthropic's 1h TTL,
    # dearer than the default 5 minutes).
    cache_write_1h: int = 0
    input_cost: float | None = None
    output_cost: float | None = None
    total_cost: float | None = None

    @staticmethod
    def add(parts: list[Usage]) -> Usage:
        counts = [sum(p[i] for p in parts) for i in range(9)]
        costs = [
            None if any(p[i] is None for p in parts) else sum(p[i] for p in parts)
            for i in range(9, 12)
        ]
        return Usage(*counts, *costs)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**31 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 2**31:
        return int(value)
    return None


def _usage_tokens(usage: Any) -> Tokens | None:
    found = _usage(usage)
    return found[:3] if found else None


def _detail(details: Any, *keys: str) -> int:
    if not isinstance(details, dict):
        return 0
    for key in keys:
        value = _int(details.get(key))
        if value is not None:
            return value
    return 0


def _usage(usage: Any) -> Usage | None:
    """One usage block in any of the shapes SDKs send, as a ``Usage``.

    LangChain's ``usage_metadata`` counts cached and cache-creation tokens in
    ``input_tokens`` and reasoning in ``output_tokens``; so do OpenAI's
    ``prompt_tokens_details`` / ``completion_tokens_details``. Anthropic's raw
    usage counts them apart, so they are added to the input here.
    """
    if not isinstance(usage, dict):
        return None
    prompt = _int(usage.get("input_tokens", usage.get("prompt_tokens")))
    completion = _int(usage.get("output_tokens", usage.get("completion_tokens")))
    total = _int(usage.get("total_tokens"))
    if prompt is None and completion is None and total is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    inputs = usage.get("input_token_details") or usage.get("prompt_tokens_details")
    outputs = usage.get("output_token_details") or usage.get(
        "completion_tokens_details"
    )
    cache_read = _detail(inputs, "cache_read", "cached_tokens")
    # langchain-anthropic 1.x zeroes "cache_creation" when it reports the
    # writes per TTL; Anthropic's raw usage nests them under "cache_creation".
    by_ttl = inputs if isinstance(inputs, dict) else usage.get("cache_creation")
    write_5m = _detail(by_ttl, "ephemeral_5m_input_tokens")
    write_1h = _detail(by_ttl, "ephemeral_1h_input_tokens")
    cache_write = _detail(inputs, "cache_creation", "cache_write") or (
        write_5m + write_1h
    )
    raw_read = _int(usage.get("cache_read_input_tokens"))
    raw_write = _int(usage.get("cache_creation_input_tokens"))
    if (raw_read or raw_write) and not inputs:
        cache_read, cache_write = raw_read or 0, raw_write or 0
        prompt += cache_read + cache_write
        total = None
    return Usage(
        prompt,
        completion,
        total if total is not None else prompt + completion,
        cache_read,
        cache_write,
        _detail(outputs, "reasoning", "reasoning_tokens"),
        _detail(inputs, "audio", "audio_tokens"),
        _detail(outputs, "audio", "audio_tokens"),
        min(write_1h, cache_write),
        _cost(usage.get("input_cost")),
        _cost(usage.get("output_cost")),
        _cost(usage.get("total_cost")),
    )


def _cost(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 <= number < 1e9 else None


def _message_usage(message: Any) -> Usage | None:
    if not isinstance(message, dict):
        return None
    kwargs = message.get("kwargs") if message.get("lc") else message
    if not isinstance(kwargs, dict):
        return None
    return _usage(kwargs.get("usage_metadata")) or _usage(
        (kwargs.get("response_metadata") or {}).get("token_usage")
        if isinstance(kwargs.get("response_metadata"), dict)
        else None
    )


def _generations_usage(generations: Any) -> Usage | None:
    """Sum usage over LangChain's generations (a list of lists of generations)."""
    if not isinstance(generations, list):
        return None
    found: list[Usage] = []
    for group in generations:
        for gen in group if isinstance(group, list) else [group]:
            if isinstance(gen, dict):
                usage = _message_usage(gen.get("message"))
                if usage:
                    found.append(usage)
    if not found:
        return None
    return found[0] if len(found) == 1 else Usage.add(found)


def usage(outputs: Any, extra: Any) -> Usage | None:
    """The run's usage, or None if nothing says: outputs first, then what
    ``run_tree.set(usage_metadata=...)`` puts in ``extra.metadata``."""
    if isinstance(outputs, dict):
        llm_output = outputs.get("llm_output")
        if not isinstance(llm_output, dict):
            llm_output = {}
        for candidate in (
            _usage(outputs.get("usage_metadata")),
            _generations_usage(outputs.get("generations")),
            _usage(llm_output.get("token_usage")),
            _usage(llm_output.get("usage")),
            _usage(outputs.get("usage")),
            _message_usage(outputs.get("output")),
            _message_usage(outputs),
        ):
            if candidate:
                return candidate
    if isinstance(extra, dict):
        metadata = extra.get("metadata")
        if isinstance(metadata, dict):
            return _usage(metadata.get("usage_metadata"))
    return None


def tokens(outputs: Any, extra: Any) -> Tokens | None:
    """Token counts (prompt, completion, total), or None if nothing says."""
    found = usage(outputs, extra)
    return found[:3] if found else None


def model(extra: Any) -> tuple[str, str]:
    """(model name, provider) from ls_* metadata or the invocation params."""
    if not isinstance(extra, dict):
        return "", ""
    metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    params = (
        extra.get("invocation_params")
        if isinstance(extra.get("invocation_params"), dict)
        else {}
    )
    name = (
        metadata.get("ls_model_name")
        or params.get("model")
        or params.get("model_name")
        or params.get("model_id")
        or ""
    )
    provider = metadata.get("ls_provider") or params.get("_type") or ""
    return (
        name[:255] if isinstance(name, str) else "",
        provider[:255] if isinstance(provider, str) else "",
    )


def first_token_time(events: Any) -> datetime | None:
    if not isinstance(events, list):
        return None
    for event in events:
        if isinstance(event, dict) and event.get("name") == "new_token":
            try:
                return parse_time(event.get("time"), "events")
            except InvalidField:
                return None
    return None
