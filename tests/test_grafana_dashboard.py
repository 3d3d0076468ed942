"""deploy/grafana/agent-spy.json reads only metrics and labels that /metrics serves."""

import json
import re
import uuid
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy/grafana/agent-spy.json"
METRIC = re.compile(r"\bagentspy_[a-z_]+\b")
BY = re.compile(r"\bby \(([^)]*)\) \(rate\((agentspy_[a-z_]+)")


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def served(client, api_prefix) -> dict[str, set[str]]:
    """Sample names in /metrics after some traffic, with the labels each carries."""
    runs = [
        {"id": str(uuid.uuid4()), "name": "r", "start_time": "2026-11-25T12:00:00Z"},
        {"id": "not-a-uuid", "name": "bad", "start_time": "2026-11-25T12:00:00Z"},
    ]
    client.post(
        f"{api_prefix}/runs/batch",
        data=orjson.dumps({"post": runs}),
        content_type="application/json",
    )
    text = client.get("/metrics").content.decode()
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def test_every_metric_in_the_dashboard_is_served(client, api_prefix):
    samples = served(client, api_prefix)
    used = {name for expr in expressions() for name in METRIC.findall(expr)}
    assert used == {
        "agentspy_runs_ingested_total",
        "agentspy_runs_rejected_total",
        "agentspy_http_requests_total",
        "agentspy_http_request_duration_seconds_bucket",
        "agentspy_http_request_duration_seconds_sum",
        "agentspy_http_request_duration_seconds_count",
        "agentspy_ingest_batch_size_bucket",
        "agentspy_ingest_batch_size_sum",
        "agentspy_ingest_batch_size_count",
        "agentspy_database_size_bytes",
    }
    assert sorted(used - set(samples)) == []


def test_every_grouping_label_in_the_dashboard_is_served(client, api_prefix):
    samples = served(client, api_prefix)
    groupings = [match for expr in expressions() for match in BY.findall(expr)]
    assert groupings
    for labels, metric in groupings:
        for label in (part.strip() for part in labels.split(",")):
            assert label in samples[metric] | {"le"}, (metric, label)
