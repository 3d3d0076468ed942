"""Formatting of the compare page's differences (B minus A)."""

from __future__ import annotations

from django import template

from dashboard.templatetags.agentspy import format_duration, format_usd

register = template.Library()
MAX_INDENT = 8


def _sign(value: float) -> str:
    return "+" if value > 0 else "−" if value < 0 else "±"


@register.filter
def cmp_depth(depth: int) -> int:
    """The indentation class of a row: deep trees stop indenting at 8."""
    return min(depth, MAX_INDENT)


@register.filter
def delta_class(value: float | None) -> str:
    """More latency, tokens or cost reads as worse, less as better."""
    if not value:
        return ""
    return "delta-up" if value > 0 else "delta-down"


@register.filter
def signed_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{_sign(value)}{format_duration(abs(value))}"


@register.filter
def signed_number(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{_sign(value)}{abs(value):,}"


@register.filter
def signed_usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{_sign(value)}{format_usd(abs(value))}"
