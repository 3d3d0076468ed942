"""Formatting helpers: durations, times, JSON trees and chart geometry."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import charts, jsonview
from dashboard.templatetags import agentspy


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (-5, "0 ms"),
        (850.4, "850 ms"),
        (1234, "1.23 s"),
        (12_345, "12.3 s"),
        (125_000, "2m 05s"),
        (7_380_000, "2h 03m"),
    ],
)
def test_durations_read_like_a_debugger(ms, text):
    assert agentspy.format_duration(ms) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2, "just now"),
        (42, "42s ago"),
        (600, "10m ago"),
        (7200, "2h ago"),
        (86400 * 3, "3d ago"),
    ],
)
def test_relative_times(seconds, text):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert agentspy.format_relative(now - timedelta(seconds=seconds), now) == text


def test_old_relative_times_show_the_date():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert (
        agentspy.format_relative(datetime(2026, 1, 2, tzinfo=UTC), now) == "2026-01-02"
    )


def test_reltime_tag_has_the_exact_time_on_hover():
    html = agentspy.reltime("2026-11-25T10:00:00.5+00:00")
    assert 'datetime="2026-11-25T10:00:00.500000+00:00"' in html
    assert 'title="2026-11-25 10:00:00.500 UTC"' in html
    assert agentspy.reltime(None) == "—"
    assert agentspy.exacttime("nonsense") == "—"


def test_run_duration_ticks_only_for_running_runs():
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert agentspy.run_duration(start, start + timedelta(seconds=2)) == "2.00 s"
    assert agentspy.run_duration(start, None, "success") == "—"
    assert agentspy.run_duration(None, None) == "—"
    running = agentspy.run_duration(start, None, "running")
    assert running.startswith('<span data-running-since="2026-11-25T10:00:00+00:00">')


def test_token_and_number_filters():
    assert [agentspy.tokens(v) for v in (0, 999, 12_345, 2_500_000)] == [
        "—",
        "999",
        "12.3k",
        "2.5M",
    ]
    assert agentspy.number(None) == "—"
    assert agentspy.percent(0.125) == "12.5%"
    assert agentspy.percent(None) == "—"
    assert agentspy.type_class("llm") == "type-llm"
    assert agentspy.type_class("weird") == "type-other"
    assert agentspy.type_abbrev("tool") == "T"
    assert agentspy.type_abbrev("weird") == "WE"


def test_json_tree_escapes_keys_and_values():
    html = jsonview.json_tree({"<b>k</b>": ["<script>x</script>", 1.5, True, None, {}]})
    assert '<span class="k">&lt;b&gt;k&lt;/b&gt;</span>' in html
    assert '<span class="s">"&lt;script&gt;x&lt;/script&gt;"</span>' in html
    assert '<span class="n">1.5</span>' in html
    assert '<span class="b">true</span>' in html
    assert '<span class="z">null</span>' in html
    assert '<span class="c">{}</span>' in html
    assert "<script>" not in html


def test_json_tree_is_bounded():
    html = jsonview.json_tree({"long": "y" * (jsonview.MAX_STRING + 10)})
    assert "… 10 more characters (raw view)" in html
    many = jsonview.json_tree(list(range(jsonview.MAX_NODES + 100)))
    assert many.count('<span class="n">') == jsonview.MAX_NODES - 1
    assert "too large to show here" in many
    deep_closed = jsonview.json_tree({"a": {"b": {"c": 1}}})
    assert deep_closed.count("<details open>") == 2
    assert deep_closed.count("<details>") == 1


def test_raw_json_is_indented_and_capped(monkeypatch):
    assert jsonview.raw_json({"a": "é"}) == '{\n  "a": "é"\n}'
    monkeypatch.setattr(jsonview, "MAX_RAW", 5)
    assert jsonview.raw_json({"a": 1}) == '{\n  "\n… 7 more characters'


def test_runs_chart_scales_bars_to_a_round_maximum():
    series = {
        "bucket": "hour",
        "points": [
            {"time": "2026-11-25T10:00:00+00:00", "runs": 8, "errors": 2},
            {"time": "2026-11-25T11:00:00+00:00", "runs": 0, "errors": 0},
        ],
    }
    chart = charts.runs_chart(series)
    assert chart.empty is False
    assert [t["label"] for t in chart.y_ticks] == ["0", "2.5", "5", "7.5", "10"]
    first = chart.bars[0]
    assert (first["h"], first["eh"]) == (112.0, 28.0)
    assert first["title"] == "2026-11-25 10:00 UTC: 8 runs, 2 errors"
    assert [x["label"] for x in chart.x_labels] == ["10:00", "11:00"]
    assert charts.runs_chart({"points": []}).empty is True


def test_latency_chart_draws_p50_and_p95_lines():
    points = [
        {"time": "2026-11-20T00:00:00+00:00", "p50": 100.0, "p95": 1500.0, "count": 3},
        {"time": "2026-11-21T00:00:00+00:00", "p50": None, "p95": None, "count": 0},
    ]
    chart = charts.latency_chart(points, "day")
    assert chart.lines["p50"].count(",") == 1
    assert [t["label"] for t in chart.y_ticks] == ["0", "500ms", "1s", "1.5s", "2s"]
    assert chart.x_labels[0]["label"] == "Nov 20"
    assert chart.dots[1]["title"] == "2026-11-20 00:00 UTC: p95 1,500 ms (3 traces)"
    assert charts.latency_chart(points[1:], "day").empty is True


def test_nice_max_and_share_rows():
    assert [charts.nice_max(v) for v in (0, 3, 10, 11, 4200, 70_000)] == [
        1,
        5,
        10,
        20,
        5000,
        100_000,
    ]
    assert charts.share_rows({"a": 5, "b": 10}) == [
        {"label": "b", "count": 10, "pct": 100.0},
        {"label": "a", "count": 5, "pct": 50.0},
    ]
    assert charts._tick_label(90_000, "ms") == "1.5m"


def test_runs_chart_never_draws_below_the_axis():
    series = {
        "bucket": "hour",
        "points": [
            {"time": "2026-11-25T10:00:00+00:00", "runs": -3, "errors": -1},
            {"time": "2026-11-25T11:00:00+00:00", "runs": 2, "errors": 5},
        ],
    }
    bars = charts.runs_chart(series).bars
    assert [(b["h"], b["eh"]) for b in bars] == [(0.0, 0.0), (140.0, 140.0)]
