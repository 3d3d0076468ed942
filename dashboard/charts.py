"""Geometry for the overview's server-rendered SVG charts.

Only numbers and labels leave this module; the template draws them, so no
chart library and nothing loaded from another origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

WIDTH = 640
HEIGHT = 170
LEFT = 44
RIGHT = 8
TOP = 8
BOTTOM = 22
TICKS = 4


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, str] = field(default_factory=dict)
    dots: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    x_labels: list[dict[str, Any]] = field(default_factory=list)
    empty: bool = True


def nice_max(value: float, least: float = 1) -> float:
    """The smallest 1/2/5 x 10^n at or above ``value`` (at least ``least``)."""
    if value <= least:
        return least
    if value < 1:  # cents: 1/2/5 x 10^-n
        magnitude = 10.0 ** math.floor(math.log10(value))
        for step in (1, 2, 5, 10):
            if value <= step * magnitude * (1 + 1e-9):
                return step * magnitude
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _label(when: datetime, bucket: str) -> str:
    return when.strftime("%H:%M") if bucket == "hour" else when.strftime("%b %d")


def _tick_label(value: float, unit: str) -> str:
    if value == 0:
        return "0"
    if unit == "ms":
        if value >= 60_000:
            return f"{value / 60_000:.3g}m"
        return f"{value / 1000:.3g}s" if value >= 1000 else f"{value:.3g}ms"
    if unit == "usd":
        return f"${value / 1000:.3g}k" if value >= 1000 else f"${value:.3g}"
    return f"{value / 1000:.3g}k" if value >= 1000 else f"{value:.3g}"


def _axes(chart: Chart, top_value: float, unit: str) -> None:
    plot_h = chart.height - TOP - BOTTOM
    for i in range(TICKS + 1):
        value = top_value * i / TICKS
        chart.y_ticks.append(
            {
                "y": round(TOP + plot_h - plot_h * i / TICKS, 1),
                "label": _tick_label(value, unit),
            }
        )


def _x_labels(chart: Chart, times: list[datetime], bucket: str, slot: float) -> None:
    every = max(1, len(times) // 6)
    for index in range(0, len(times), every):
        chart.x_labels.append(
            {
                "x": round(LEFT + slot * index + slot / 2, 1),
                "label": _label(times[index], bucket),
            }
        )


def runs_chart(series: dict[str, Any]) -> Chart:
    """Runs per bucket as bars, the errors among them overlaid in red."""
    chart = Chart()
    points = series.get("points") or []
    if not points:
        return chart
    # Counts come from rollups kept by triggers; a bucket must never draw
    # below the axis even if one is briefly negative or errors exceed runs.
    points = [
        {**p, "runs": max(p["runs"], 0), "errors": max(min(p["errors"], p["runs"]), 0)}
        for p in points
    ]
    times = [parse_datetime(p["time"]) for p in points]
    top_value = nice_max(max(p["runs"] for p in points))
    plot_w = chart.width - LEFT - RIGHT
    plot_h = chart.height - TOP - BOTTOM
    slot = plot_w / len(points)
    gap = min(2.0, slot * 0.2)
    for point, when in zip(points, times, strict=True):
        x = LEFT + slot * len(chart.bars)
        runs_h = plot_h * point["runs"] / top_value
        errors_h = plot_h * point["errors"] / top_value
        chart.bars.append(
            {
                "x": round(x + gap / 2, 2),
                "w": round(max(slot - gap, 0.5), 2),
                "y": round(TOP + plot_h - runs_h, 2),
                "h": round(runs_h, 2),
                "ey": round(TOP + plot_h - errors_h, 2),
                "eh": round(errors_h, 2),
                "title": f"{when:%Y-%m-%d %H:%M} UTC: {point['runs']:,} runs, "
                f"{point['errors']:,} errors",
            }
        )
    chart.empty = not any(p["runs"] for p in points)
    _axes(chart, top_value, "")
    _x_labels(chart, times, series.get("bucket", "hour"), slot)
    return chart


def cost_chart(series: dict[str, Any]) -> Chart:
    """US dollars of priced runs per bucket, as bars."""
    chart = Chart()
    points = series.get("points") or []
    if not points:
        return chart
    costs = [max(p.get("cost", 0.0), 0.0) for p in points]
    times = [parse_datetime(p["time"]) for p in points]
    top_value = nice_max(max(costs), least=0.01)
    plot_w = chart.width - LEFT - RIGHT
    plot_h = chart.height - TOP - BOTTOM
    slot = plot_w / len(points)
    gap = min(2.0, slot * 0.2)
    for index, (cost, when) in enumerate(zip(costs, times, strict=True)):
        height = plot_h * cost / top_value
        chart.bars.append(
            {
                "x": round(LEFT + slot * index + gap / 2, 2),
                "w": round(max(slot - gap, 0.5), 2),
                "y": round(TOP + plot_h - height, 2),
                "h": round(height, 2),
                "eh": 0,
                "title": f"{when:%Y-%m-%d %H:%M} UTC: ${cost:,.4f}",
            }
        )
    chart.empty = not any(costs)
    _axes(chart, top_value, "usd")
    _x_labels(chart, times, series.get("bucket", "hour"), slot)
    return chart


def latency_chart(points: list[dict[str, Any]], bucket: str) -> Chart:
    """p50 and p95 latency of root runs per bucket, as two lines."""
    chart = Chart()
    measured = [p for p in points if p.get("p50") is not None]
    if not points or not measured:
        return chart
    times = [parse_datetime(p["time"]) for p in points]
    top_value = nice_max(max(p["p95"] for p in measured))
    plot_w = chart.width - LEFT - RIGHT
    plot_h = chart.height - TOP - BOTTOM
    slot = plot_w / len(points)
    for key in ("p50", "p95"):
        coords = []
        for index, point in enumerate(points):
            if point.get(key) is None:
                continue
            x = round(LEFT + slot * index + slot / 2, 2)
            y = round(TOP + plot_h - plot_h * point[key] / top_value, 2)
            coords.append(f"{x},{y}")
            chart.dots.append(
                {
                    "x": x,
                    "y": y,
                    "key": key,
                    "title": f"{times[index]:%Y-%m-%d %H:%M} UTC: {key} "
                    f"{point[key]:,.0f} ms ({point['count']:,} traces)",
                }
            )
        chart.lines[key] = " ".join(coords)
    chart.empty = False
    _axes(chart, top_value, "ms")
    _x_labels(chart, times, bucket, slot)
    return chart


def share_rows(
    counts: dict[str, int] | list[tuple[str, Any]],
) -> list[dict[str, Any]]:
    """Rows for a breakdown table: label, count (or dollars) and the bar's
    percentage."""
    items = list(counts.items()) if isinstance(counts, dict) else list(counts)
    items.sort(key=lambda item: (-item[1], str(item[0])))
    top = max((n for _, n in items), default=0) or 1
    return [
        {"label": label, "count": n, "pct": round(100 * n / top, 1)}
        for label, n in items
    ]
