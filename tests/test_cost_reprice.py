"""reprice_runs brings stored costs, trace totals and summaries to new prices."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runs import pricing
from runs.models import Run
from runs.query.scope import StatsScope
from runs.query.stats import summary
from tests.cost_payloads import chain_run, llm_run, post

pytestmark = pytest.mark.django_db

USAGE = {"input_tokens": 1_000_000, "output_tokens": 100_000, "total_tokens": 1_100_000}


@pytest.fixture(autouse=True)
def fresh_prices():
    pricing.invalidate()
    yield
    pricing.invalidate()


def _trace() -> uuid.UUID:
    root = uuid.uuid4()
    post(
        chain_run(root),
        llm_run(
            provider="vllm",
            model="acme-70b",
            usage=USAGE,
            trace_id=root,
            parent_id=root,
        ),
        llm_run(
            provider="openai",
            model="gpt-4o-mini",
            usage=USAGE,
            trace_id=root,
            parent_id=root,
        ),
        llm_run(
            provider="openai",
            model="gpt-4o-mini",
            usage={**USAGE, "total_cost": 9.0},  # the client's own figure
            trace_id=root,
            parent_id=root,
        ),
    )
    return root


def _reprice(*args: str) -> str:
    out = StringIO()
    call_command("reprice_runs", *args, stdout=out)
    return out.getvalue()


def test_a_new_local_price_reprices_stored_runs_and_every_total():
    root = _trace()
    # gpt-4o-mini, $0.15 / $0.60 per 1M (https://openai.com/api/pricing/):
    # 1M x 0.15 + 0.1M x 0.60 = $0.21; plus the client's $9.00.
    assert Run.objects.get(id=root).trace_cost == pytest.approx(9.21, rel=0.005)
    assert summary(StatsScope())["unpriced_runs"] == 1
    call_command(
        "set_model_price",
        "acme-70b",
        "--input-per-mtok",
        "0.5",
        "--output-per-mtok",
        "1.5",
        stdout=StringIO(),
    )
    out = _reprice()
    assert "2 LLM runs to reprice." in out  # the client-sent cost is not one
    assert "Repriced 2 runs: 1 changed, 0 without a price." in out
    acme = Run.objects.get(model_name="acme-70b")
    # 1M x 0.5 + 0.1M x 1.5 = $0.65.
    assert (acme.prompt_cost, acme.completion_cost, acme.total_cost) == (
        pytest.approx(0.5),
        pytest.approx(0.15),
        pytest.approx(0.65),
    )
    assert acme.price_source == "local price acme-70b: $0.5 in, $1.5 out per MTok"
    assert Run.objects.get(id=root).trace_cost == pytest.approx(9.86, rel=0.005)
    stats = summary(StatsScope())
    assert stats["unpriced_runs"] == 0
    assert stats["cost"]["total"] == pytest.approx(9.86, rel=0.005)
    client_sent = Run.objects.get(price_source="client")
    assert client_sent.total_cost == 9.0


def test_reprice_of_one_model_leaves_the_others():
    _trace()
    call_command(
        "set_model_price",
        "gpt-4o-mini",
        "--input-per-mtok",
        "1",
        "--output-per-mtok",
        "1",
        stdout=StringIO(),
    )
    call_command(
        "set_model_price",
        "acme-70b",
        "--input-per-mtok",
        "1",
        "--output-per-mtok",
        "1",
        stdout=StringIO(),
    )
    assert "1 changed" in _reprice("--model", "gpt-4o-mini", "--batch-size", "1")
    mini = Run.objects.exclude(price_source="client").get(model_name="gpt-4o-mini")
    assert mini.total_cost == pytest.approx(1.1)
    assert Run.objects.get(model_name="acme-70b").total_cost is None
    assert summary(StatsScope())["cost"]["total"] == pytest.approx(10.1)


def test_reprice_since_a_date_and_a_removed_price():
    _trace()
    assert "0 LLM runs to reprice." in _reprice("--since", "2030-01-01")
    call_command(
        "set_model_price",
        "gpt-4o-mini",
        "--input-per-mtok",
        "1",
        "--output-per-mtok",
        "1",
        stdout=StringIO(),
    )
    _reprice("--since", "2026-11-01")
    assert summary(StatsScope())["cost"]["total"] == pytest.approx(10.1)
    with pytest.raises(CommandError, match="not an ISO date"):
        _reprice("--since", "yesterday")
    with pytest.raises(CommandError, match="at least 1"):
        _reprice("--batch-size", "0")
