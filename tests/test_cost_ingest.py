"""Each LLM run is priced at ingest from its usage and the model's list price.

Expected costs are worked out by hand from the providers' published list
prices (US dollars per million tokens, cited at each test), not by the code
under test; ``approx`` allows 0.5%.
"""

import uuid

import pytest

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Run
from tests.cost_payloads import chain_run, llm_run, post

pytestmark = pytest.mark.django_db


def cost(**expected: float) -> dict:
    return {k: pytest.approx(v, rel=0.005) for k, v in expected.items()}


def stored(run: dict) -> dict:
    row = Run.objects.get(id=run["id"])
    return {
        "prompt_cost": row.prompt_cost,
        "completion_cost": row.completion_cost,
        "total_cost": row.total_cost,
    }


def test_openai_cached_prompt_tokens_are_priced_at_the_cached_rate():
    # gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per 1M tokens
    # (https://openai.com/api/pricing/). 1,500 input of which 1,000 cached:
    # 500 x 2.50 + 1,000 x 1.25 = 2,500 -> $0.0025; 300 x 10 -> $0.003.
    run = llm_run(
        provider="openai",
        model="gpt-4o-2024-08-06",
        usage={
            "input_tokens": 1500,
            "output_tokens": 300,
            "total_tokens": 1800,
            "input_token_details": {"cache_read": 1000, "audio": 0},
            "output_token_details": {"reasoning": 0, "audio": 0},
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.0025, completion_cost=0.003, total_cost=0.0055
    )
    row = Run.objects.get(id=run["id"])
    assert (row.prompt_tokens, row.completion_tokens, row.total_tokens) == (
        1500,
        300,
        1800,
    )
    assert row.price_source.startswith("genai-prices ")
    assert "openai/gpt-4o: $2.5 in, $1.25 cache read, $10 out per MTok" in (
        row.price_source
    )


def test_openai_reasoning_tokens_are_output_tokens_priced_once():
    # o3-mini: $1.10 input, $4.40 output per 1M (https://openai.com/api/pricing/).
    # 1,200 output tokens of which 1,000 reasoning: 1,200 x 4.40 = $0.00528
    # (not 2,200 x 4.40); 2,000 x 1.10 = $0.0022.
    run = llm_run(
        provider="openai",
        model="o3-mini",
        usage={
            "input_tokens": 2000,
            "output_tokens": 1200,
            "total_tokens": 3200,
            "output_token_details": {"reasoning": 1000},
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.0022, completion_cost=0.00528, total_cost=0.00748
    )
    assert Run.objects.get(id=run["id"]).total_tokens == 3200


def test_anthropic_cache_reads_and_writes_have_their_own_rates():
    # Claude 3.5 Sonnet: $3 input, $3.75 prompt-caching write, $0.30 cache
    # read, $15 output per 1M (https://www.anthropic.com/pricing#api).
    # langchain-anthropic counts both cache kinds in input_tokens: 100 plain +
    # 2,000 written + 3,000 read = 5,100. 100 x 3 + 2,000 x 3.75 + 3,000 x 0.30
    # = 8,700 -> $0.0087; 250 x 15 -> $0.00375.
    run = llm_run(
        provider="anthropic",
        model="claude-3-5-sonnet-20241022",
        usage={
            "input_tokens": 5100,
            "output_tokens": 250,
            "total_tokens": 5350,
            "input_token_details": {"cache_read": 3000, "cache_creation": 2000},
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.0087, completion_cost=0.00375, total_cost=0.01245
    )
    assert Run.objects.get(id=run["id"]).prompt_tokens == 5100


def test_anthropic_raw_usage_adds_cache_tokens_to_the_input():
    # The same call reported by the raw Anthropic API shape (llm_output.usage,
    # input_tokens excluding the cache): the same 5,100 input tokens and cost.
    run = llm_run(
        provider="anthropic",
        model="claude-3-5-sonnet-20241022",
        outputs={
            "generations": [[{"text": "Paris."}]],
            "llm_output": {
                "usage": {
                    "input_tokens": 100,
                    "cache_creation_input_tokens": 2000,
                    "cache_read_input_tokens": 3000,
                    "output_tokens": 250,
                }
            },
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.0087, completion_cost=0.00375, total_cost=0.01245
    )
    row = Run.objects.get(id=run["id"])
    assert (row.prompt_tokens, row.completion_tokens, row.total_tokens) == (
        5100,
        250,
        5350,
    )


def test_anthropic_one_hour_cache_writes_cost_twice_the_input_rate():
    # langchain-anthropic 1.7 reports writes per TTL and zeroes
    # "cache_creation" (chat_models._create_usage_metadata). Claude 3.5 Sonnet:
    # $3 input, $3.75 5-minute write, 2 x $3 = $6 1-hour write, $0.30 read per 1M
    # (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing).
    # 100 plain + 1,500 (5m) + 500 (1h) + 3,000 read = 5,100 input tokens:
    # 100 x 3 + 1,500 x 3.75 + 500 x 6 + 3,000 x 0.30 = 9,825 -> $0.009825.
    run = llm_run(
        provider="anthropic",
        model="claude-3-5-sonnet-20241022",
        usage={
            "input_tokens": 5100,
            "output_tokens": 250,
            "total_tokens": 5350,
            "input_token_details": {
                "cache_read": 3000,
                "cache_creation": 0,
                "ephemeral_5m_input_tokens": 1500,
                "ephemeral_1h_input_tokens": 500,
            },
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.009825, completion_cost=0.00375, total_cost=0.013575
    )


def test_anthropic_raw_usage_prices_its_one_hour_cache_writes():
    # The raw API shape nests the writes per TTL under "cache_creation"
    # (cache_creation_input_tokens is their sum): the same $0.009825 input.
    run = llm_run(
        provider="anthropic",
        model="claude-3-5-sonnet-20241022",
        outputs={
            "generations": [[{"text": "Paris."}]],
            "llm_output": {
                "usage": {
                    "input_tokens": 100,
                    "cache_creation_input_tokens": 2000,
                    "cache_read_input_tokens": 3000,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 1500,
                        "ephemeral_1h_input_tokens": 500,
                    },
                    "output_tokens": 250,
                }
            },
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.009825, completion_cost=0.00375, total_cost=0.013575
    )
    assert Run.objects.get(id=run["id"]).prompt_tokens == 5100


def test_google_cached_and_thinking_tokens():
    # Gemini 2.5 Flash: $0.30 input (text), $0.03 context caching, $2.50
    # output including thinking per 1M
    # (https://ai.google.dev/gemini-api/docs/pricing#gemini-2.5-flash).
    # 4,000 input of which 3,000 cached: 1,000 x 0.30 + 3,000 x 0.03 = 390
    # -> $0.00039; 900 output of which 600 thinking: 900 x 2.50 -> $0.00225.
    run = llm_run(
        provider="google_genai",
        model="gemini-2.5-flash",
        usage={
            "input_tokens": 4000,
            "output_tokens": 900,
            "total_tokens": 4900,
            "input_token_details": {"cache_read": 3000},
            "output_token_details": {"reasoning": 600},
        },
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.00039, completion_cost=0.00225, total_cost=0.00264
    )


def test_google_long_prompt_is_priced_at_the_upper_tier():
    # Gemini 2.5 Pro: $1.25 / $10 per 1M up to 200k prompt tokens, $2.50 /
    # $15 above (https://ai.google.dev/gemini-api/docs/pricing#gemini-2.5-pro).
    # 250,000 x 2.50 -> $0.625; 1,000 x 15 -> $0.015.
    run = llm_run(
        provider="google_genai",
        model="gemini-2.5-pro",
        usage={"input_tokens": 250_000, "output_tokens": 1000, "total_tokens": 251_000},
    )
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.625, completion_cost=0.015, total_cost=0.64
    )


def test_unknown_model_leaves_cost_null():
    run = llm_run(
        provider="openai",
        model="my-finetune-7b",
        usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    )
    post(run)
    assert stored(run) == {
        "prompt_cost": None,
        "completion_cost": None,
        "total_cost": None,
    }
    assert Run.objects.get(id=run["id"]).price_source == ""


def test_a_longer_model_name_is_not_priced_by_its_prefix():
    # gpt-4o's $2.50 must not price a model that merely starts with its name.
    run = llm_run(
        provider="openai",
        model="gpt-4o-ultra-preview-x",
        usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    )
    post(run)
    assert stored(run)["total_cost"] is None


def test_usage_metadata_costs_sent_by_the_client_win():
    run = llm_run(
        provider="openai",
        model="gpt-4o",
        usage={
            "input_tokens": 1000,
            "output_tokens": 100,
            "total_tokens": 1100,
            "input_cost": 0.125,
            "output_cost": 0.5,
        },
    )
    post(run)
    assert stored(run) == {
        "prompt_cost": 0.125,
        "completion_cost": 0.5,
        "total_cost": 0.625,
    }
    assert Run.objects.get(id=run["id"]).price_source == "client"


def test_langsmith_cost_fields_sent_with_the_run_win():
    run = llm_run(
        provider="openai",
        model="gpt-4o",
        usage={"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100},
        prompt_cost=0.25,
        completion_cost="0.75",
        total_cost=1,
    )
    post(run)
    assert stored(run) == {
        "prompt_cost": 0.25,
        "completion_cost": 0.75,
        "total_cost": 1.0,
    }


def test_usage_set_on_the_run_tree_metadata_is_priced():
    # run_tree.set(usage_metadata=...) sends the usage in extra.metadata only.
    # gpt-4o-mini: $0.15 / $0.60 per 1M (https://openai.com/api/pricing/):
    # 10,000 x 0.15 -> $0.0015; 2,000 x 0.60 -> $0.0012.
    run = llm_run(provider="openai", model="gpt-4o-mini", outputs={"output": "hi"})
    run["extra"]["metadata"]["usage_metadata"] = {
        "input_tokens": 10_000,
        "output_tokens": 2000,
        "total_tokens": 12_000,
    }
    post(run)
    assert stored(run) == cost(
        prompt_cost=0.0015, completion_cost=0.0012, total_cost=0.0027
    )


def test_a_chain_has_no_cost_and_its_root_holds_the_trace_total():
    root = uuid.uuid4()
    # gpt-4o-mini as above: 1,000 x 0.15 + 100 x 0.60 = 210 -> $0.00021 each.
    usage = {"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100}
    first = llm_run(
        provider="openai",
        model="gpt-4o-mini",
        usage=usage,
        trace_id=root,
        parent_id=root,
    )
    second = llm_run(
        provider="openai",
        model="gpt-4o-mini",
        usage=usage,
        trace_id=root,
        parent_id=root,
    )
    unknown = llm_run(
        provider="openai",
        model="my-finetune-7b",
        usage=usage,
        trace_id=root,
        parent_id=root,
    )
    post(first, unknown)  # children before their root, as SDKs may send them
    post(chain_run(root), second)
    chain = Run.objects.get(id=root)
    assert chain.total_cost is None
    assert chain.trace_cost == pytest.approx(0.00042, rel=0.005)


def test_a_trace_of_unpriced_runs_has_no_total():
    root = uuid.uuid4()
    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    post(
        chain_run(root),
        llm_run(
            provider="openai",
            model="my-finetune-7b",
            usage=usage,
            trace_id=root,
            parent_id=root,
        ),
    )
    assert Run.objects.get(id=root).trace_cost is None


def test_a_later_patch_keeps_the_cost_the_client_sent():
    run = llm_run(
        provider="openai",
        model="gpt-4o",
        usage={"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100},
        total_cost=2.5,
    )
    post(run)
    batch = Batch()
    batch.add_run(
        "patch",
        {"id": run["id"], "end_time": "2026-11-25T13:40:24+00:00"},
        item="patch[0]",
    )
    ingest(batch)
    assert stored(run)["total_cost"] == 2.5
    assert Run.objects.get(id=run["id"]).price_source == "client"
