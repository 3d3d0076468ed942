"""What an LLM call cost, from its usage, model and provider.

Prices come from ``genai-prices`` (maintained with the providers' list prices),
overridden by local ``ModelPrice`` rows; ``runs.pricing.prices`` finds the
price of a model, ``runs.pricing.cost`` applies it to a run's usage.
"""

from runs.pricing.cost import CLIENT, Cost, price_usage
from runs.pricing.prices import invalidate, lookup, warm

__all__ = ["CLIENT", "Cost", "invalidate", "lookup", "price_usage", "warm"]
