"""Each LLM call's tokens are counted once, whichever runs echo its usage."""

import uuid

import pytest

from runs.ingest import ingest
from runs.ingest.batch import Batch
from runs.models import Run
from runs.query.roots import root_runs
from runs.query.scope import StatsScope
from runs.query.stats import summary

pytestmark = pytest.mark.django_db

T0 = "2026-11-25T13:40:22.427839+00:00"
T1 = "2026-11-25T13:40:23.000000+00:00"
USAGE = {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500}


def _ai_message(usage: dict) -> dict:
    """An AIMessage as langchain-core's dumpd() serialises it in run outputs."""
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "messages", "AIMessage"],
        "kwargs": {
            "content": "Paris.",
            "type": "ai",
            "usage_metadata": usage,
            "response_metadata": {"model_name": "gpt-4o-2024-08-06"},
        },
    }


def _run(run_id, trace_id, run_type, outputs, parent=None, extra=None) -> dict:
    dotted = f"20261125T134022427839Z{trace_id}"
    if parent:
        dotted += f".20261125T134022427840Z{run_id}"
    return {
        "id": str(run_id),
        "trace_id": str(trace_id),
        "parent_run_id": str(parent) if parent else None,
        "dotted_order": dotted,
        "name": run_type,
        "run_type": run_type,
        "start_time": T0,
        "end_time": T1,
        "inputs": {"question": "Capital of France?"},
        "outputs": outputs,
        "extra": extra or {},
        "session_name": "tokens",
    }


def _ingest(*runs: dict) -> None:
    batch = Batch()
    for index, raw in enumerate(runs):
        batch.add_run("post", raw, item=f"post[{index}]")
    ingest(batch)


def _chain_over_llm() -> uuid.UUID:
    """A chain returning the AIMessage its chat model child produced."""
    root, llm = uuid.uuid4(), uuid.uuid4()
    generations = {"generations": [[{"text": "Paris.", "message": _ai_message(USAGE)}]]}
    _ingest(
        _run(root, root, "chain", {"output": _ai_message(USAGE)}),
        _run(llm, root, "llm", generations, parent=root),
    )
    return root


def test_a_chain_returning_an_ai_message_has_no_tokens_of_its_own():
    root = _chain_over_llm()
    chain = Run.objects.get(id=root)
    llm = Run.objects.get(parent_id=root)
    assert (chain.prompt_tokens, chain.completion_tokens, chain.total_tokens) == (
        0,
        0,
        0,
    )
    assert (llm.prompt_tokens, llm.completion_tokens, llm.total_tokens) == (
        1200,
        300,
        1500,
    )


def test_trace_totals_count_the_llm_call_once():
    root = _chain_over_llm()
    page = root_runs(Run.objects.filter(trace_id=root))
    row = page.runs[0]
    assert (
        row["trace_prompt_tokens"],
        row["trace_completion_tokens"],
        row["trace_total_tokens"],
    ) == (1200, 300, 1500)


def test_stats_summary_counts_the_llm_call_once():
    _chain_over_llm()
    assert summary(StatsScope())["tokens"] == {
        "prompt": 1200,
        "completion": 300,
        "total": 1500,
    }


def test_usage_only_in_metadata_is_read_for_an_llm_run():
    """What ``run_tree.set(usage_metadata=...)`` sends: usage in extra.metadata."""
    run_id = uuid.uuid4()
    extra = {"metadata": {"usage_metadata": USAGE, "ls_model_name": "gpt-4o"}}
    _ingest(_run(run_id, run_id, "llm", {"output": "Paris."}, extra=extra))
    run = Run.objects.get(id=run_id)
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (
        1200,
        300,
        1500,
    )


def test_a_traceable_chain_reporting_usage_in_metadata_is_not_credited():
    run_id = uuid.uuid4()
    extra = {"metadata": {"usage_metadata": USAGE}}
    _ingest(_run(run_id, run_id, "chain", {"output": "Paris."}, extra=extra))
    assert Run.objects.get(id=run_id).total_tokens == 0
