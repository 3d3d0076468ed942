"""One OTel span to one LangSmith-shaped run dict (see ``runs.otel`` for ids).

Run type, inputs, outputs, model, provider, tokens, session and user are read
from LangSmith's own OTel attributes, OpenInference, the GenAI semantic
conventions and OpenLLMetry, in that order of trust. Attributes that became a
run field are consumed; every other span attribute, the resource, the scope,
the span kind and status stay in ``extra.metadata["otel"]``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from runs.otel import messages as msg
from runs.otel import vocab
from runs.otel.decode import SPAN_KINDS, STATUS_CODES, Span

STATUS_ERROR = 2
STATUS_OK = 1


def run_id(trace_id: bytes, span_id: bytes) -> uuid.UUID:
    """The run id of a span: its span id, then the trace id's last 8 bytes."""
    return uuid.UUID(bytes=span_id + trace_id[8:])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _value_payload(value: Any, key: str, mime: Any) -> dict[str, Any]:
    """A serialised input/output attribute as a run's inputs/outputs object."""
    parsed = value
    if isinstance(value, str) and (
        mime == "application/json" or key != "input.value" and key != "output.value"
    ):
        parsed = msg.parse_json(value)
    if isinstance(parsed, dict):
        return parsed
    if (
        isinstance(parsed, list)
        and parsed
        and all(isinstance(m, dict) and "role" in m for m in parsed)
    ):
        return {"messages": parsed}
    return {"input" if key in vocab.INPUT_VALUE_KEYS else "output": parsed}


def _io(
    attrs: dict[str, Any], keys: tuple[str, ...], used: set[str]
) -> dict[str, Any] | None:
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        used.add(key)
        mime_key = key.replace(".value", ".mime_type")
        mime = attrs.get(mime_key) if key.endswith(".value") else None
        if mime is not None:
            used.add(mime_key)
        return _value_payload(value, key, mime)
    return None


def _messages(
    span: Span, groups: dict[str, dict[str, Any]], used: set[str]
) -> tuple[list | None, list | None]:
    attrs = span.attributes

    def flat(prefix: str) -> list | None:
        return msg.flat_messages(groups[prefix], prefix, used) or None

    inputs = flat("llm.input_messages.")
    outputs = flat("llm.output_messages.")
    if inputs is None and "gen_ai.input.messages" in attrs:
        inputs = msg.genai_messages(attrs["gen_ai.input.messages"])
        if inputs is not None:
            used.add("gen_ai.input.messages")
            system = msg.system_instructions(attrs.get("gen_ai.system_instructions"))
            if system is not None:
                used.add("gen_ai.system_instructions")
                inputs.insert(0, system)
    if outputs is None and "gen_ai.output.messages" in attrs:
        outputs = msg.genai_messages(attrs["gen_ai.output.messages"])
        if outputs is not None:
            used.add("gen_ai.output.messages")
    if inputs is None:
        inputs = flat("gen_ai.prompt.")
    if outputs is None:
        outputs = flat("gen_ai.completion.")
    if inputs is None or outputs is None:
        from_events = msg.event_messages(span.events)
        inputs = inputs or from_events[0] or None
        outputs = outputs or from_events[1] or None
    return inputs, outputs


def _error(span: Span) -> str | None:
    exceptions = [e for e in span.events if e["name"] == "exception"]
    failed = span.status_code == STATUS_ERROR or (
        span.status_code != STATUS_OK and exceptions
    )
    if not failed:
        return None
    texts = []
    for event in exceptions:
        attrs = event["attributes"]
        kind = attrs.get("exception.type") or "Exception"
        text = f"{kind}: {attrs.get('exception.message') or ''}".rstrip(": ")
        stack = str(attrs.get("exception.stacktrace") or "").rstrip()
        # A Python traceback ends with "Type: message" again: said once, above.
        head, _, last = stack.rpartition("\n")
        if head and last.strip() == text:
            stack = head.rstrip()
        if stack:
            text += "\n\n" + stack
        texts.append(text)
    if span.status_message and span.status_message not in "\n".join(texts):
        texts.insert(0, span.status_message)
    return "\n\n".join(texts) or "Error"


def span_to_run(span: Span) -> dict[str, Any]:
    """The LangSmith run of a span, without project or dotted order."""
    attrs = span.attributes
    used: set[str] = set()
    kind = vocab.run_type(attrs)
    groups = msg.group_prefixes(attrs)
    inputs, outputs = _messages(span, groups, used)
    run_inputs = {"messages": inputs} if inputs is not None else None
    run_outputs = {"messages": outputs} if outputs is not None else None
    if run_inputs is None:
        run_inputs = _io(attrs, vocab.INPUT_VALUE_KEYS, used)
    if run_outputs is None:
        run_outputs = _io(attrs, vocab.OUTPUT_VALUE_KEYS, used)
    metadata = vocab.metadata(attrs, groups, used)
    tags = vocab.tags(attrs, used)
    model = vocab.first(attrs, vocab.MODEL_KEYS)
    if model is not None:
        metadata.setdefault("ls_model_name", str(model))
    provider = vocab.first(attrs, vocab.PROVIDER_KEYS)
    if provider is not None:
        metadata.setdefault("ls_provider", str(provider))
    usage = vocab.usage(attrs)
    if usage is not None:
        metadata.setdefault("usage_metadata", usage)
    extra: dict[str, Any] = {"metadata": metadata}
    params = msg.parse_json(attrs.get("llm.invocation_parameters"))
    if isinstance(params, dict):
        used.add("llm.invocation_parameters")
        extra["invocation_params"] = params
    otel: dict[str, Any] = {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "kind": "SPAN_KIND_" + SPAN_KINDS[span.kind]
        if 0 <= span.kind < len(SPAN_KINDS)
        else span.kind,
        "status": {
            "code": "STATUS_CODE_" + STATUS_CODES[span.status_code]
            if 0 <= span.status_code < len(STATUS_CODES)
            else span.status_code,
            "message": span.status_message,
        },
        "scope": span.scope,
        "resource": span.resource,
        "attributes": {k: v for k, v in attrs.items() if k not in used},
    }
    for key, value in (
        ("links", span.links),
        ("trace_state", span.trace_state),
        ("flags", span.flags),
        ("dropped", span.dropped),
    ):
        if value:
            otel[key] = value
    metadata["otel"] = otel
    name = attrs.get("langsmith.trace.name")
    trace = uuid.UUID(bytes=span.trace_id)
    return {
        "id": run_id(span.trace_id, span.span_id),
        "trace_id": trace,
        "parent_run_id": run_id(span.trace_id, span.parent_span_id)
        if span.parent_span_id
        else None,
        "name": name if isinstance(name, str) and name else span.name,
        "run_type": kind,
        "start_time": _time(span.start_ns),
        "end_time": _time(span.end_ns) if span.end_ns else None,
        "inputs": run_inputs or {},
        "outputs": run_outputs,
        "error": _error(span),
        "extra": extra,
        "events": [
            {
                "name": e["name"],
                "time": _time(e["time_ns"]).isoformat() if e["time_ns"] else None,
                "kwargs": e["attributes"],
            }
            for e in span.events
        ],
        "tags": tags,
    }


_PROJECT_KEYS = (
    "langsmith.trace.session_name",
    "langsmith.project",
    "openinference.project.name",
)


def named_project(span: Span) -> str | None:
    """The project a span or its resource names explicitly."""
    for attrs in (span.attributes, span.resource):
        value = vocab.first(attrs, _PROJECT_KEYS)
        if isinstance(value, str):
            return value
    return None


def service_project(span: Span) -> str | None:
    """The service name, the weakest hint of a project."""
    service = span.resource.get("service.name")
    # The SDK's fallback is not a name anyone chose.
    if isinstance(service, str) and not service.startswith("unknown_service"):
        return service or None
    return None
