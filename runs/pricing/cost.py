"""Applying a price to one LLM call's usage (the ingest hot path).

Token counts follow LangChain's convention: ``prompt`` includes cached and
cache-write tokens, ``completion`` includes reasoning tokens. Cached reads and
cache writes are priced at their own rates and the rest of the input at the
input rate; reasoning tokens are output tokens and priced once, as output.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings

from runs.ingest.extract import Usage
from runs.pricing.prices import Rates, lookup

CLIENT = "client"
PER_MTOK = 1_000_000


class Cost(NamedTuple):
    prompt: float | None
    completion: float | None
    total: float | None
    source: str


def client_cost(usage: Usage) -> Cost | None:
    """The cost the client sent with the usage, which wins over any price."""
    prompt, completion, total = usage.input_cost, usage.output_cost, usage.total_cost
    if prompt is None and completion is None and total is None:
        return None
    if total is None:
        total = (prompt or 0.0) + (completion or 0.0)
    return Cost(prompt, completion, total, CLIENT)


def apply(rates: Rates, usage: Usage) -> Cost:
    input_rate, output_rate = rates.input, rates.output
    read_rate, write_rate = rates.cache_read, rates.cache_write
    for start, *tier in rates.tiers:
        if usage.prompt > start:
            input_rate, output_rate, read_rate, write_rate = tier
            break
    audio_in = usage.input_audio if rates.input_audio is not None else 0
    audio_out = usage.output_audio if rates.output_audio is not None else 0
    text_in = max(usage.prompt - usage.cache_read - usage.cache_write - audio_in, 0)
    # Writes kept for an hour cost twice the input rate (Anthropic's published
    # multiplier; price lists carry only the 5-minute write rate).
    write_1h = usage.cache_write_1h
    prompt = (
        text_in * input_rate
        + usage.cache_read * read_rate
        + (usage.cache_write - write_1h) * write_rate
        + write_1h * 2 * input_rate
        + audio_in * (rates.input_audio or 0.0)
    ) / PER_MTOK + rates.per_request
    completion = (
        max(usage.completion - audio_out, 0) * output_rate
        + audio_out * (rates.output_audio or 0.0)
    ) / PER_MTOK
    return Cost(prompt, completion, prompt + completion, rates.source)


def price_usage(usage: Usage, model: str, provider: str) -> Cost | None:
    """The cost of one LLM call, or None when its model has no price (or
    ``PRICE_RUNS`` is off and the client sent none)."""
    sent = client_cost(usage)
    if sent is not None:
        return sent
    if not settings.PRICE_RUNS:
        return None
    rates = lookup(model, provider)
    if rates is None:
        return None
    return apply(rates, usage)
