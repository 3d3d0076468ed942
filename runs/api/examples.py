"""Response examples for the OpenAPI document, built from the real shapes.

drf-spectacular cannot see the dicts our views return, so Swagger and ReDoc
showed ``{"property1": ..., "property2": ...}``. A postprocessing hook
(``add_examples``) gives each operation an example made by the same functions
the views call (``runs.shape``, ``root_row``, ``info_payload``, ...) on a
sample run, or, where a view reads the database, a literal whose keys a test
keeps equal to a real response's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from runs.ingest.service import IngestResult
from runs.models import Feedback, Project, Run
from runs.query.roots import RootsPage, root_row
from runs.shape import feedback_to_dict, project_to_dict, run_to_dict

PROJECT_ID = uuid.UUID("6f7c1c4e-8a2b-4b4a-9a57-2f0d3c1b9e10")
TRACE_ID = uuid.UUID("5f1c2f0e-3b7e-4d0e-9a59-7d3f7d0c2a11")
CHILD_ID = uuid.UUID("a3e4d1c2-7b6a-4f5e-8d9c-0b1a2f3e4d5c")
START = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 12, 0, 2, 500000, tzinfo=UTC)


def sample_project() -> Project:
    return Project(id=PROJECT_ID, name="my-project", created_at=START)


def sample_run() -> Run:
    return Run(
        id=TRACE_ID,
        trace_id=TRACE_ID,
        project_id=PROJECT_ID,
        name="weather-agent",
        run_type="chain",
        status="success",
        start_time=START,
        end_time=END,
        dotted_order=f"20261125T120000000000Z{TRACE_ID}",
        inputs={"question": "What is the weather in Oslo?"},
        outputs={"answer": "-3 °C and snow."},
        extra={"metadata": {"user_id": "u-42"}},
        tags=["prod"],
        prompt_tokens=80,
        completion_tokens=16,
        total_tokens=96,
    )


def sample_feedback() -> Feedback:
    return Feedback(
        id=uuid.UUID("0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"),
        run_id=TRACE_ID,
        trace_id=TRACE_ID,
        session_id=PROJECT_ID,
        key="correctness",
        score=1.0,
        comment="Right answer.",
        created_at=START,
        modified_at=START,
    )


def _root_page() -> dict[str, Any]:
    run = sample_run()
    values = {
        **{f: getattr(run, f) for f in ("id", "trace_id", "name", "run_type")},
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "error": None,
        "tags": run.tags,
        "model_name": "",
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "project_id": PROJECT_ID,
        "project__name": "my-project",
        "trace_cost": Decimal("0.000036"),
    }
    aggregates = {
        "run_count": 3,
        "error_count": 0,
        "trace_prompt_tokens": 80,
        "trace_completion_tokens": 16,
        "trace_total_tokens": 96,
        "trace_prompt_cost": Decimal("0.000012"),
        "trace_completion_cost": Decimal("0.000024"),
        "trace_unpriced_runs": 0,
    }
    page = RootsPage(
        runs=[root_row(values, aggregates)], total=1, limit=50, offset=0, has_more=False
    )
    return page.as_dict()


def _node(run_id: uuid.UUID, parent: uuid.UUID | None, depth: int) -> dict[str, Any]:
    return {
        "id": str(run_id),
        "parent_run_id": str(parent) if parent else None,
        "name": "weather-agent" if parent is None else "ChatOpenAI",
        "run_type": "chain" if parent is None else "llm",
        "status": "success",
        "start_time": START.isoformat(),
        "end_time": END.isoformat(),
        "duration_ms": 2500.0,
        "dotted_order": f"20261125T120000000000Z{TRACE_ID}",
        "error": None,
        "tags": ["prod"],
        "model_name": None if parent is None else "gpt-4o-mini",
        "prompt_tokens": 0 if parent is None else 80,
        "completion_tokens": 0 if parent is None else 16,
        "total_tokens": 0 if parent is None else 96,
        "total_cost": None if parent is None else "0.000036",
        "depth": depth,
        "orphan": False,
        "children": [],
    }


def _hierarchy() -> dict[str, Any]:
    root = _node(TRACE_ID, None, 0)
    root["children"] = [_node(CHILD_ID, TRACE_ID, 1)]
    return {
        "root_run_id": str(TRACE_ID),
        "trace_id": str(TRACE_ID),
        "hierarchy": root,
        "total_runs": 2,
        "max_depth": 1,
    }


def _summary() -> dict[str, Any]:
    return {
        "total_runs": 21,
        "total_traces": 5,
        "runs_last_24h": 21,
        "error_runs": 4,
        "error_rate": 0.1905,
        "success_rate": 0.8,
        "status_distribution": {"error": 4, "running": 1, "success": 16},
        "run_type_distribution": {"chain": 5, "llm": 10, "tool": 6},
        "project_distribution": [
            {"project_id": str(PROJECT_ID), "project_name": "my-project", "runs": 21}
        ],
        "latency_ms": {"p50": 1830.5, "p95": 4210.0, "p99": 4210.0},
        "tokens": {"prompt": 4000, "completion": 800, "total": 4800},
        "time_series": {
            "bucket": "hour",
            "points": [
                {"time": START.isoformat(), "runs": 21, "errors": 4, "cost": 0.00036}
            ],
        },
        "cost": {"prompt": 0.00012, "completion": 0.00024, "total": 0.00036},
        "unpriced_runs": 0,
        "recent_projects": [
            {
                "id": str(PROJECT_ID),
                "name": "my-project",
                "last_run_start_time": START.isoformat(),
            }
        ],
    }


def _projects() -> dict[str, Any]:
    return {
        "projects": [
            {
                "id": str(PROJECT_ID),
                "name": "my-project",
                "description": None,
                "created_at": START.isoformat(),
                "run_count": 21,
                "trace_count": 5,
                "error_count": 4,
                "error_rate": 0.1905,
                "last_run_start_time": START.isoformat(),
                "total_tokens": 960,
                "total_cost": 0.00036,
                "unpriced_runs": 0,
            }
        ]
    }


def _session() -> dict[str, Any]:
    # Shaped by the sessions view's own function, so the example keeps its keys.
    from runs.api.session_views import _project_dict

    counts = {
        "run_count": 21,
        "last_run_start_time": START,
        "prompt_tokens": 800,
        "completion_tokens": 160,
        "total_tokens": 960,
        "prompt_cost": 0.00012,
        "completion_cost": 0.00024,
        "total_cost": 0.00036,
        "unpriced_runs": 0,
    }
    return {
        **_project_dict(sample_project(), counts),
        "session_feedback_stats": None,
    }


def _session_detail() -> dict[str, Any]:
    # One project also carries its experiment statistics (LangSmith's keys).
    return {
        **_session(),
        "latency_p50": 1.2,
        "latency_p99": 2.5,
        "error_rate": 0.0,
        "first_token_p50": None,
        "first_token_p99": None,
    }


def _accepted() -> dict[str, Any]:
    # Built by the ingest result itself, so the example keeps its keys.
    return IngestResult(accepted=[TRACE_ID, CHILD_ID]).as_dict()


def examples() -> dict[tuple[str, str], Any]:
    """(operationId, status) -> example body."""
    from runs.api.ingest_views import info_payload

    # A served run also carries s3_urls: its attachments' download links.
    run = {**run_to_dict(sample_run(), child_run_ids=[str(CHILD_ID)]), "s3_urls": {}}
    session = _session()
    feedback = feedback_to_dict(sample_feedback())
    return {
        ("info_retrieve", "200"): info_payload(),
        ("runs_retrieve", "200"): run,
        ("runs_query_create", "200"): {"runs": [run], "cursors": {"next": None}},
        ("runs_create", "202"): _accepted(),
        ("runs_partial_update", "202"): _accepted(),
        ("runs_batch_create", "202"): _accepted(),
        ("runs_multipart_create", "202"): _accepted(),
        ("sessions_list", "200"): [session],
        ("sessions_create", "201"): project_to_dict(sample_project()),
        ("sessions_retrieve", "200"): _session_detail(),
        ("sessions_partial_update", "200"): project_to_dict(sample_project()),
        ("feedback_list", "200"): [feedback],
        ("feedback_create", "201"): feedback,
        ("feedback_retrieve", "200"): feedback,
        ("feedback_partial_update", "200"): feedback,
        ("dashboard_runs_roots_retrieve", "200"): _root_page(),
        ("dashboard_runs_hierarchy_retrieve", "200"): _hierarchy(),
        ("dashboard_stats_summary_retrieve", "200"): _summary(),
        ("dashboard_projects_retrieve", "200"): _projects(),
    }


def add_examples(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: examples, and OTLP under "otel"."""
    known = examples()
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if path == "/v1/traces":
                operation["tags"] = ["otel"]
            for code, response in operation.get("responses", {}).items():
                example = known.get((operation.get("operationId"), code))
                content = response.get("content", {}).get("application/json")
                if example is not None and content is not None:
                    content["example"] = example
    return result
