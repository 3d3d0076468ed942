"""OTLP spans are priced from each vocabulary's token and cost attributes.

Expected costs from the providers' published list prices, cited per test.
"""

import pytest

from runs.models import Run
from tests.test_otel_api import CHILD, ROOT, export, pb_span, post, rid

pytestmark = pytest.mark.django_db


def _send(client, attrs: dict) -> Run:
    response = post(
        client,
        export(
            pb_span(ROOT, name="agent", attrs={"openinference.span.kind": "AGENT"}),
            pb_span(CHILD, ROOT, name="chat", attrs=attrs),
        ),
    )
    assert response.status_code == 200
    return Run.objects.get(id=rid(CHILD))


def _costs(run: Run) -> tuple:
    return (run.prompt_cost, run.completion_cost, run.total_cost)


def test_genai_semconv_span_with_cache_reads(client):
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M
    # (https://openai.com/api/pricing/). 10,000 input of which 8,000 cached:
    # 2,000 x 0.15 + 8,000 x 0.075 = 900 -> $0.0009; 1,000 x 0.60 -> $0.0006.
    run = _send(
        client,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 10_000,
            "gen_ai.usage.output_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 8000,
        },
    )
    assert run.run_type == "llm"
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (
        10_000,
        1000,
        11_000,
    )
    assert _costs(run) == pytest.approx((0.0009, 0.0006, 0.0015), rel=0.005)
    root = Run.objects.get(id=rid(ROOT))
    assert (root.total_tokens, root.total_cost) == (0, None)
    assert root.trace_cost == pytest.approx(0.0015, rel=0.005)


def test_openinference_span_with_cache_write_and_reasoning(client):
    # Claude 3.5 Haiku: $0.80 input, $1 cache write, $0.08 cache read, $4
    # output per 1M (https://www.anthropic.com/pricing#api). 5,000 input =
    # 1,000 plain + 3,000 written + 1,000 read: 800 + 3,000 + 80 = 3,880
    # -> $0.00388; 2,000 output (1,500 reasoning) x 4 -> $0.008.
    run = _send(
        client,
        {
            "openinference.span.kind": "LLM",
            "llm.provider": "anthropic",
            "llm.model_name": "claude-3-5-haiku-20241022",
            "llm.token_count.prompt": 5000,
            "llm.token_count.completion": 2000,
            "llm.token_count.total": 7000,
            "llm.token_count.prompt_details.cache_write": 3000,
            "llm.token_count.prompt_details.cache_read": 1000,
            "llm.token_count.completion_details.reasoning": 1500,
        },
    )
    assert run.total_tokens == 7000
    assert _costs(run) == pytest.approx((0.00388, 0.008, 0.01188), rel=0.005)


def test_openinference_cost_attributes_win(client):
    run = _send(
        client,
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 100,
            "llm.token_count.completion": 10,
            "llm.cost.prompt": 0.5,
            "llm.cost.completion": 0.25,
            "llm.cost.total": 0.75,
        },
    )
    assert _costs(run) == (0.5, 0.25, 0.75)
    assert run.price_source == "client"


def test_openllmetry_span(client):
    # gpt-4o: $2.50 input, $10 output per 1M (https://openai.com/api/pricing/):
    # 2,000 x 2.50 -> $0.005; 500 x 10 -> $0.005.
    run = _send(
        client,
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.prompt_tokens": 2000,
            "gen_ai.usage.completion_tokens": 500,
            "llm.usage.total_tokens": 2500,
        },
    )
    assert run.model_name == "gpt-4o-2024-08-06"
    assert _costs(run) == pytest.approx((0.005, 0.005, 0.01), rel=0.005)


def test_an_unknown_model_span_is_unpriced(client):
    run = _send(
        client,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "in-house-13b",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 1,
        },
    )
    assert _costs(run) == (None, None, None)
    assert Run.objects.get(id=rid(ROOT)).trace_cost is None
