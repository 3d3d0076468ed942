"""Finding the price of a model: local ``ModelPrice`` rows, then genai-prices.

Names match exactly (case-insensitive) after the provider's own normalisation:
Google's ``models/`` prefix, a ``provider/`` prefix (LiteLLM, OpenRouter) and
compact dates (``-20240806`` -> ``-2024-08-06``, genai-prices' own rule).
genai-prices' ``equals`` rules and its maintainers' patterns apply as written;
its ``starts_with``/``contains``/``ends_with`` rules match the listed name with
a namespace before it and a dated or versioned snapshot after it only
(``claude-3-5-sonnet-20241022``), never another model that shares the prefix
(``gpt-4o`` does not price ``gpt-4o-mini``: prefix matching has mispriced new
models by up to 4x elsewhere). An unlisted model stays unpriced until
genai-prices lists it or it is given a local price.

Lookups are cached per process (ingest prices every LLM run); the cache is
dropped every ``TTL_SECONDS`` so a price changed in another process applies
to new runs within that time, and at once in the process that changed it.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

TTL_SECONDS = 30.0
# LangChain's ``ls_provider`` / ``_type``, OTel ``gen_ai.system`` values ->
# genai-prices provider ids (others go through genai-prices' own matching).
PROVIDER_ALIASES = {
    "openai": "openai",
    "openai-chat": "openai",
    "azure": "azure",
    "azure_openai": "azure",
    "azure-openai-chat": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "anthropic": "anthropic",
    "anthropic-chat": "anthropic",
    "google": "google",
    "google_genai": "google",
    "google_vertexai": "google",
    "google_anthropic_vertex": "google",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "amazon_bedrock": "aws",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "aws.bedrock": "aws",
    "mistralai": "mistral",
    "mistral_ai": "mistral",
    "xai": "x-ai",
    "deepseek": "deepseek",
    "groq": "groq",
    "cohere": "cohere",
}
# The token prices of genai-prices that ``cost.apply`` applies; prices of
# units a run's usage does not report (web searches, images) add nothing.
_TOKEN_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


@dataclass(frozen=True)
class Rates:
    """US dollars per million tokens, and where they come from.

    ``tiers`` are (above this many input tokens: input, output, cache read,
    cache write), highest first: past a threshold the tier's rates apply to
    every token of the call (genai-prices' and the providers' "cliff" tiers).
    """

    input: float
    output: float
    cache_read: float
    cache_write: float
    source: str
    input_audio: float | None = None
    output_audio: float | None = None
    per_request: float = 0.0
    tiers: tuple[tuple[int, float, float, float, float], ...] = ()


def _money(value: float | Decimal | None) -> str:
    return f"${float(value):g}" if value is not None else "-"


def describe(
    origin: str,
    input: float,
    output: float,
    cache_read: float | None,
    cache_write: float | None,
    tiered: bool = False,
) -> str:
    parts = [f"{_money(input)} in"]
    if cache_read is not None and cache_read != input:
        parts.append(f"{_money(cache_read)} cache read")
    if cache_write is not None and cache_write != input:
        parts.append(f"{_money(cache_write)} cache write")
    parts.append(f"{_money(output)} out")
    if tiered:
        parts.append("tiered")
    return f"{origin}: {', '.join(parts)} per MTok"[:255]


_COMPACT_DATE = re.compile(r"-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


def normalise_model(name: str, provider: str = "") -> list[str]:
    """The names a model is looked up under, most literal first."""
    name = name.strip().lower()
    names = [name]
    if name.startswith("models/"):  # Google's API names
        names.append(name[len("models/") :])
    if "/" in names[-1]:
        prefix, _, rest = names[-1].partition("/")
        if prefix in PROVIDER_ALIASES or prefix == provider:
            names.append(rest)
    dashed = _COMPACT_DATE.sub(r"-\1-\2-\3", names[-1])
    if dashed != names[-1]:
        names.append(dashed)
    return list(dict.fromkeys(names))


def normalise_provider(provider: str) -> str:
    provider = provider.strip().lower()
    return PROVIDER_ALIASES.get(provider, provider)


# --- genai-prices -----------------------------------------------------------


# What may follow a listed name: a dated or versioned snapshot of the same
# model (claude-3-5-sonnet-20241022, gemini-2.0-flash-001, ...-v1:0, -latest);
# never a single digit or a dot (gpt-4 must not price gpt-4.1 or gpt-4-5).
_SNAPSHOT = re.compile(
    r"(?:[-@:](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{3,4}|v\d+(?::\d+)?"
    r"|latest|preview|exp))*"
)


def _listed(name: str, text: str, *, before: bool, after: bool) -> bool:
    """``name`` is ``text`` with at most a namespace before it (``us.``,
    ``publishers/google/models/``) and a snapshot suffix after it."""
    text = text.lower()
    at = name.find(text)
    while at >= 0:
        head, tail = name[:at], name[at + len(text) :]
        if text.endswith("-0"):  # a rule that begins the snapshot number
            tail = re.sub(r"^\d{1,3}", "", tail)
        head_ok = not head or (before and head[-1] in "./")
        tail_ok = not tail or (after and _SNAPSHOT.fullmatch(tail) is not None)
        if head_ok and tail_ok:
            return True
        at = name.find(text, at + 1)
    return False


def _exact_match(clause: Any, name: str) -> bool:
    """genai-prices' match rules, minus guessing: ``starts_with``,
    ``contains`` and ``ends_with`` match the listed name with a namespace and
    a snapshot suffix only (``gpt-4o`` never prices ``gpt-4o-mini``)."""
    from genai_prices import types as gp

    if isinstance(clause, gp.ClauseEquals):
        return name == clause.equals.lower()
    if isinstance(clause, gp.ClauseStartsWith):
        return _listed(name, clause.starts_with, before=False, after=True)
    if isinstance(clause, gp.ClauseContains):
        return _listed(name, clause.contains, before=True, after=True)
    if isinstance(clause, gp.ClauseEndsWith):
        return _listed(name, clause.ends_with, before=True, after=False)
    if isinstance(clause, gp.ClauseRegex):
        return re.search(clause.regex, name) is not None
    if isinstance(clause, gp.ClauseOr):
        return any(_exact_match(c, name) for c in clause.or_)
    if isinstance(clause, gp.ClauseAnd):
        # Other clauses of an "and" narrow a positive one: they apply as written.
        positive = [c for c in clause.and_ if not isinstance(c, gp.ClauseRegex)]
        return bool(positive) and all(
            _exact_match(c, name) if c in positive else c.is_match(name)
            for c in clause.and_
        )
    return False


def _provider(provider: str, model: str) -> Any:
    from genai_prices.data_snapshot import find_provider_by_id, get_snapshot

    providers = get_snapshot().providers
    if provider:
        return find_provider_by_id(providers, normalise_provider(provider))
    # No provider given: the provider genai-prices associates the name with;
    # the model itself must still match exactly below.
    for candidate in providers:
        if candidate.model_match is not None and candidate.model_match.is_match(model):
            return candidate
    return None


def _model(provider: Any, names: list[str]) -> Any:
    from genai_prices.data_snapshot import get_snapshot

    searched = [provider]
    for fallback in provider.fallback_model_providers or ():
        found = next((p for p in get_snapshot().providers if p.id == fallback), None)
        if found is not None:
            searched.append(found)
    for name in names:
        for candidate in searched:
            for model in candidate.models:
                if _exact_match(model.match, name):
                    return model
    return None


def _base(value: Any) -> float | None:
    from genai_prices import types as gp

    if isinstance(value, gp.TieredPrices):
        return float(value.base)
    return float(value) if isinstance(value, Decimal) else None


def _tiers(price: Any) -> tuple[tuple[int, float, float, float, float], ...]:
    from genai_prices import types as gp

    values = [getattr(price, key) for key in _TOKEN_KEYS]
    starts = sorted(
        {t.start for v in values if isinstance(v, gp.TieredPrices) for t in v.tiers},
        reverse=True,
    )

    def at(value: Any, start: int) -> float | None:
        if not isinstance(value, gp.TieredPrices):
            return _base(value)
        rate = value.base
        for tier in value.tiers:
            if tier.start <= start:
                rate = tier.price
        return float(rate)

    out = []
    for start in starts:
        input_rate, output_rate, read, write = (at(v, start) for v in values)
        out.append(
            (start, input_rate, output_rate, read or input_rate, write or input_rate)
        )
    return tuple(out)


def _library_rates(model: str, provider: str) -> Rates | None:
    from genai_prices import __version__

    names = normalise_model(model, provider)
    found_provider = _provider(provider, names[-1])
    if found_provider is None:
        return None
    info = _model(found_provider, names)
    if info is None:
        return None
    price = info.get_prices(datetime.now(tz=UTC))
    input_rate, output_rate = _base(price.input_mtok), _base(price.output_mtok)
    if input_rate is None or output_rate is None:
        return None  # listed without a token price: not known, not free
    read, write = _base(price.cache_read_mtok), _base(price.cache_write_mtok)
    tiers = _tiers(price)
    return Rates(
        input=input_rate,
        output=output_rate,
        cache_read=input_rate if read is None else read,
        cache_write=input_rate if write is None else write,
        input_audio=_base(price.input_audio_mtok),
        output_audio=_base(price.output_audio_mtok),
        per_request=(_base(price.requests_kcount) or 0.0) / 1000,
        tiers=tiers,
        source=describe(
            f"genai-prices {__version__} {found_provider.id}/{info.id}",
            input_rate,
            output_rate,
            read,
            write,
            tiered=bool(tiers),
        ),
    )


# --- local prices -------------------------------------------------------------


@dataclass(frozen=True)
class _Local:
    exact: dict[tuple[str, str], Rates]
    patterns: list[tuple[re.Pattern[str], str, Rates]]


def _local_rates(row: Any) -> Rates:
    where = f" ({row.provider})" if row.provider else ""
    return Rates(
        input=row.input_per_mtok,
        output=row.output_per_mtok,
        cache_read=row.cache_read_per_mtok
        if row.cache_read_per_mtok is not None
        else row.input_per_mtok,
        cache_write=row.cache_write_per_mtok
        if row.cache_write_per_mtok is not None
        else row.input_per_mtok,
        source=describe(
            f"local price {row.model}{where}",
            row.input_per_mtok,
            row.output_per_mtok,
            row.cache_read_per_mtok,
            row.cache_write_per_mtok,
        ),
    )


def _load_local() -> _Local:
    from runs.models import ModelPrice

    local = _Local({}, [])
    for row in ModelPrice.objects.all():
        provider = normalise_provider(row.provider)
        rates = _local_rates(row)
        if row.is_pattern:
            try:
                pattern = re.compile(row.model, re.IGNORECASE)
            except re.error:
                continue  # the admin and the command refuse these
            local.patterns.append((pattern, provider, rates))
        else:
            local.exact[(row.model.strip().lower(), provider)] = rates
    return local


def _find_local(local: _Local, model: str, provider: str) -> Rates | None:
    names = normalise_model(model, provider)
    for wanted in (provider, ""):
        for name in names:
            found = local.exact.get((name, wanted))
            if found is not None:
                return found
    for wanted in (provider, ""):
        for pattern, where, rates in local.patterns:
            if where == wanted and pattern.fullmatch(model.strip()):
                return rates
    return None


# --- the per-process cache -------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, Any] = {"local": None, "loaded": 0.0, "rates": {}}


def warm() -> None:
    """Load genai-prices' table now (about a second) rather than in the
    first request that ingests an LLM run."""
    from genai_prices.data_snapshot import get_snapshot

    get_snapshot()


def invalidate() -> None:
    """Forget cached prices (after a local price changed in this process)."""
    with _lock:
        _state.update(local=None, loaded=0.0, rates={})


def lookup(model: str, provider: str = "") -> Rates | None:
    """The price of ``model`` from ``provider`` ("" = unknown), or None."""
    if not model:
        return None
    key = (model, provider)
    now = time.monotonic()
    if now - _state["loaded"] > TTL_SECONDS:
        local = _load_local()
        with _lock:
            _state.update(local=local, loaded=now, rates={})
    rates: dict[tuple[str, str], Rates | None] = _state["rates"]
    if key in rates:
        return rates[key]
    provider_id = normalise_provider(provider)
    found = _find_local(_state["local"], model, provider_id) or _library_rates(
        model, provider
    )
    if len(rates) < 10_000:  # model names are few; a flood of names is not kept
        rates[key] = found
    return found
