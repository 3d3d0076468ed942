"""Read token counts, model and first-token time out of a run's payloads.

SDKs and integrations put these in different places; the order below is the
order of trust: an explicit usage block beats a guess from invocation params.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runs.ingest.normalize import InvalidField, parse_time

Tokens = tuple[int, int, int]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**31 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 2**31:
        return int(value)
    return None


def _usage_tokens(usage: Any) -> Tokens | None:
    if not isinstance(usage, dict):
        return None
    prompt = _int(usage.get("input_tokens", usage.get("prompt_tokens")))
    completion = _int(usage.get("output_tokens", usage.get("completion_tokens")))
    total = _int(usage.get("total_tokens"))
    if prompt is None and completion is None and total is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return prompt, completion, total if total is not None else prompt + completion


def _message_usage(message: Any) -> Tokens | None:
    if not isinstance(message, dict):
        return None
    kwargs = message.get("kwargs") if message.get("lc") else message
    if not isinstance(kwargs, dict):
        return None
    return _usage_tokens(kwargs.get("usage_metadata")) or _usage_tokens(
        (kwargs.get("response_metadata") or {}).get("token_usage")
        if isinstance(kwargs.get("response_metadata"), dict)
        else None
    )


def _generations_usage(generations: Any) -> Tokens | None:
    """Sum usage over LangChain's generations (a list of lists of generations)."""
    if not isinstance(generations, list):
        return None
    found = False
    totals = [0, 0, 0]
    for group in generations:
        for gen in group if isinstance(group, list) else [group]:
            if not isinstance(gen, dict):
                continue
            usage = _message_usage(gen.get("message"))
            if usage:
                found = True
                totals = [a + b for a, b in zip(totals, usage, strict=True)]
    return (totals[0], totals[1], totals[2]) if found else None


def tokens(outputs: Any, extra: Any) -> Tokens | None:
    """Token counts (prompt, completion, total), or None if nothing says."""
    if isinstance(outputs, dict):
        for candidate in (
            _usage_tokens(outputs.get("usage_metadata")),
            _usage_tokens(
                (outputs.get("llm_output") or {}).get("token_usage")
                if isinstance(outputs.get("llm_output"), dict)
                else None
            ),
            _usage_tokens(
                (outputs.get("llm_output") or {}).get("usage")
                if isinstance(outputs.get("llm_output"), dict)
                else None
            ),
            _generations_usage(outputs.get("generations")),
            _usage_tokens(outputs.get("usage")),
            _message_usage(outputs.get("output")),
            _message_usage(outputs),
        ):
            if candidate:
                return candidate
    if isinstance(extra, dict):
        metadata = extra.get("metadata")
        if isinstance(metadata, dict):
            return _usage_tokens(metadata.get("usage_metadata"))
    return None


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
