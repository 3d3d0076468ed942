"""Local prices override genai-prices: commands, admin, matching rules."""

import pytest
from django.core.management import CommandError, call_command

from runs import pricing
from runs.models import ModelPrice, Run
from tests.cost_payloads import llm_run, post

pytestmark = pytest.mark.django_db

USAGE = {"input_tokens": 1_000_000, "output_tokens": 100_000, "total_tokens": 1_100_000}


@pytest.fixture(autouse=True)
def fresh_prices():
    pricing.invalidate()
    yield
    pricing.invalidate()


def _total(provider: str, model: str) -> float | None:
    run = llm_run(provider=provider, model=model, usage=USAGE)
    post(run)
    return Run.objects.get(id=run["id"]).total_cost


def test_set_model_price_prices_a_self_hosted_model_from_any_provider(capsys):
    call_command(
        "set_model_price",
        "my-llama",
        "--input-per-mtok",
        "0.2",
        "--output-per-mtok",
        "0.6",
    )
    out = capsys.readouterr().out
    assert "Added the price of my-llama." in out
    assert "python manage.py reprice_runs --model my-llama" in out
    # 1M x 0.2 + 0.1M x 0.6 = $0.26, whichever client called it.
    assert _total("openai", "my-llama") == pytest.approx(0.26)
    assert _total("vllm", "my-llama") == pytest.approx(0.26)
    run = Run.objects.filter(model_provider="vllm").get()
    assert run.price_source == "local price my-llama: $0.2 in, $0.6 out per MTok"


def test_a_provider_price_overrides_genai_prices_for_that_provider_only():
    call_command(
        "set_model_price",
        "gpt-4o",
        "--input-per-mtok",
        "1",
        "--output-per-mtok",
        "2",
        "--cache-read-per-mtok",
        "0.5",
        "--provider",
        "azure",
    )
    # Local: 1M x 1 + 0.1M x 2 = $1.20. genai-prices (openai gpt-4o, $2.50 /
    # $10 per 1M, https://openai.com/api/pricing/): 2.50 + 1.00 = $3.50.
    assert _total("azure", "gpt-4o") == pytest.approx(1.2)
    assert _total("openai", "gpt-4o") == pytest.approx(3.5, rel=0.005)


def test_a_pattern_price_matches_whole_names_only():
    call_command(
        "set_model_price",
        r"acme-\d+b",
        "--pattern",
        "--input-per-mtok",
        "1",
        "--output-per-mtok",
        "1",
    )
    assert _total("acme", "acme-70b") == pytest.approx(1.1)
    assert _total("acme", "acme-70b-instruct") is None


def test_set_model_price_updates_and_refuses_a_bad_pattern():
    call_command(
        "set_model_price", "m", "--input-per-mtok", "1", "--output-per-mtok", "1"
    )
    call_command(
        "set_model_price", "m", "--input-per-mtok", "3", "--output-per-mtok", "4"
    )
    assert list(
        ModelPrice.objects.values_list("input_per_mtok", "output_per_mtok")
    ) == [(3.0, 4.0)]
    with pytest.raises(CommandError, match="Not a regular expression"):
        call_command(
            "set_model_price",
            "([",
            "--pattern",
            "--input-per-mtok",
            "1",
            "--output-per-mtok",
            "1",
        )
    with pytest.raises(CommandError, match="between 0 and 1,000,000"):
        call_command(
            "set_model_price", "n", "--input-per-mtok", "-1", "--output-per-mtok", "1"
        )


def test_list_model_prices(capsys):
    call_command("list_model_prices")
    assert "No local prices" in capsys.readouterr().out
    call_command(
        "set_model_price",
        "my-llama",
        "--input-per-mtok",
        "0.2",
        "--output-per-mtok",
        "0.6",
        "--cache-read-per-mtok",
        "0.05",
        "--provider",
        "vllm",
    )
    lines = capsys.readouterr().out  # the command's own output
    call_command("list_model_prices")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "MODEL     PROVIDER  INPUT  OUTPUT  CACHE READ  CACHE WRITE",
        "my-llama  vllm      0.2    0.6     0.05        -",
    ]


def test_admin_price_change_says_how_to_apply_it(admin_client):
    response = admin_client.post(
        "/admin/runs/modelprice/add/",
        {
            "model": "my-llama",
            "provider": "",
            "input_per_mtok": "0.2",
            "output_per_mtok": "0.6",
        },
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "python manage.py reprice_runs --model my-llama" in text
    assert _total("openai", "my-llama") == pytest.approx(0.26)


def test_admin_refuses_a_pattern_that_does_not_compile(admin_client):
    response = admin_client.post(
        "/admin/runs/modelprice/add/",
        {
            "model": "([",
            "is_pattern": "on",
            "input_per_mtok": "1",
            "output_per_mtok": "1",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Not a regular expression" in response.content.decode()
    assert not ModelPrice.objects.exists()


@pytest.mark.parametrize(
    ("model", "provider", "listed"),
    [
        ("claude-3-5-sonnet-20241022", "anthropic", "anthropic/claude-3-5-sonnet"),
        ("models/gemini-2.0-flash", "google_vertexai", "google/gemini-2.0-flash"),
        ("gemini-2.0-flash-001", "google_genai", "google/gemini-2.0-flash"),
        ("gpt-4o-mini-2024-07-18", "", "openai/gpt-4o-mini"),
        ("gpt-4.1", "openai", "openai/gpt-4.1"),
    ],
)
def test_provider_normalised_names_find_their_listed_model(model, provider, listed):
    rates = pricing.lookup(model, provider)
    assert rates is not None and f" {listed}: " in rates.source


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o-2099-01-01", "openai"),  # an unlisted snapshot
        ("gpt-4o-mini-ultra", "openai"),
        ("claude-3-5-sonnet-turbo", "anthropic"),
        ("", "openai"),
    ],
)
def test_names_that_only_share_a_prefix_stay_unpriced(model, provider):
    assert pricing.lookup(model, provider) is None
