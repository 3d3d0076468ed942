"""Formatting for the dashboard: durations, times, tokens, run types, JSON trees.

Everything that reaches HTML from run content is escaped here or by the
template engine; nothing from a run is ever marked safe unescaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dashboard.jsonview import json_tree as _json_tree

register = template.Library()

KNOWN_TYPES = {
    "llm": "LLM",
    "chat_model": "LLM",
    "chain": "CH",
    "tool": "T",
    "retriever": "R",
    "embedding": "E",
    "prompt": "P",
    "parser": "PA",
}


def format_duration(ms: float | None) -> str:
    """Same wording as static/agentspy/app.js's formatDuration."""
    if ms is None:
        return "—"
    ms = max(ms, 0)
    if ms < 1000:
        return f"{round(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m {int(seconds % 60):02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def format_relative(when: datetime, now: datetime | None = None) -> str:
    """Same wording as static/agentspy/app.js's formatRelative."""
    seconds = round(((now or timezone.now()) - when).total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h ago"
    if hours // 24 < 30:
        return f"{hours // 24}d ago"
    return when.strftime("%Y-%m-%d")


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    return None


@register.filter
def duration(ms: float | None) -> str:
    return format_duration(ms)


@register.simple_tag
def reltime(value: Any) -> SafeString | str:
    """A relative time that app.js keeps fresh, exact UTC time on hover."""
    when = _as_datetime(value)
    if when is None:
        return "—"
    when = when.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}" data-relative>{}</time>',
        when.isoformat(),
        when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC",
        format_relative(when),
    )


@register.simple_tag
def exacttime(value: Any) -> SafeString | str:
    when = _as_datetime(value)
    if when is None:
        return "—"
    when = when.astimezone(UTC)
    return format_html(
        '<time datetime="{}">{}</time>',
        when.isoformat(),
        when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC",
    )


@register.simple_tag
def run_duration(start: Any, end: Any, status: str = "") -> SafeString | str:
    """A finished run's duration, or a live ticking one for a running run."""
    start_dt, end_dt = _as_datetime(start), _as_datetime(end)
    if start_dt is None:
        return "—"
    if end_dt is not None:
        return format_duration((end_dt - start_dt).total_seconds() * 1000)
    if status != "running":
        return "—"
    elapsed = (timezone.now() - start_dt).total_seconds() * 1000
    return format_html(
        '<span data-running-since="{}">{}</span>',
        start_dt.isoformat(),
        format_duration(elapsed),
    )


@register.filter
def tokens(value: int | None) -> str:
    if not value:
        return "—"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:,}"


def format_usd(value: float | None) -> str:
    """US dollars: cents from a cent up, else two significant digits; "—"
    for an unknown cost (never "$0.00", which would claim it was free)."""
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    if value >= 1000:
        return f"${value:,.0f}"
    if value >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.2g}" if value >= 0.0001 else f"${value:.1e}"


@register.filter
def usd(value: float | None) -> str:
    return format_usd(value)


@register.simple_tag
def cost(value: float | None) -> SafeString | str:
    """A rollup's cost; "—" with a hover when no run beneath it was priced."""
    if value is None:
        return format_html(
            '<span class="muted" title="{}">—</span>',
            "No run was priced (a model with no known price is not counted as $0)",
        )
    return format_usd(value)


@register.filter
def number(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}"


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def type_class(run_type: str) -> str:
    return f"type-{run_type}" if run_type in KNOWN_TYPES else "type-other"


@register.filter
def type_abbrev(run_type: str) -> str:
    return KNOWN_TYPES.get(run_type, (run_type or "?")[:2].upper())


@register.simple_tag
def json_tree(value: Any) -> SafeString:
    return _json_tree(value)
