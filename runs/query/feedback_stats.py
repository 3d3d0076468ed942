"""Feedback averages per key, as LangSmith's ``feedback_stats`` shape.

Run-level feedback (scores of an experiment's runs) and session-level feedback
(summary evaluators' scores, no run) are counted apart: the SDK reads them as
``feedback_stats`` and ``session_feedback_stats``.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    UUIDField,
)
from django.db.models.functions import Coalesce

from runs.models import Feedback, Project, Run


def feedback_stats(
    project_ids: list[Any], *, session_level: bool = False
) -> dict[Any, dict[str, dict[str, Any]]]:
    """Per project, per key: n, avg, stdev, errors (scores without a number)."""
    if not project_ids:
        return {}
    if session_level:
        feedback = Feedback.objects.filter(
            session_id__in=project_ids, run_id__isnull=True
        ).annotate(project=F("session_id"))
    else:
        feedback = _run_feedback(project_ids)
    rows = (
        feedback.values("project", "key")
        .annotate(
            n=Count("id"),
            scored=Count("score"),
            avg=Avg("score"),
            total=Sum("score"),
            squares=Sum(F("score") * F("score")),
            errors=Count("id", filter=Q(score__isnull=True, value__isnull=True)),
        )
        .order_by("project", "key")
    )
    out: dict[Any, dict[str, dict[str, Any]]] = {pid: {} for pid in project_ids}
    for row in rows:
        if row["project"] not in out:
            continue  # a score of one project's run filed under another
        out[row["project"]][row["key"]] = {
            "n": row["n"],
            "avg": row["avg"],
            "stdev": _stdev(row["scored"], row["total"], row["squares"]),
            "errors": row["errors"],
            "values": {},
        }
    return out


def _run_feedback(project_ids: list[Any]) -> Any:
    """Feedback on the projects' runs, annotated with the project.

    An experiment's scores are found through its runs: an older SDK posts a
    score before its run is sent, and such feedback carries no session id.
    Experiments are as large as their datasets; other projects can hold
    millions of runs, so their feedback is found by its session id (indexed).
    """
    experiments = set(
        Project.objects.filter(
            id__in=project_ids, reference_dataset_id__isnull=False
        ).values_list("id", flat=True)
    )
    others = [pid for pid in project_ids if pid not in experiments]
    by_session = Q(session_id__in=others, run_id__isnull=False)
    by_run = Q(
        run_id__in=Run.objects.filter(project_id__in=list(experiments)).values("id")
    )
    return Feedback.objects.filter(
        (by_session if others else Q(pk__in=[]))
        | (by_run if experiments else Q(pk__in=[]))
    ).annotate(
        # Feedback without a session id belongs to its run's project.
        project=Coalesce(
            F("session_id"),
            Subquery(
                Run.objects.filter(id=OuterRef("run_id")).values("project_id")[:1],
                output_field=UUIDField(),
            ),
            output_field=UUIDField(),
        )
    )


def _stdev(n: int, total: float | None, squares: float | None) -> float | None:
    """Population standard deviation from the sums (SQLite has no STDDEV)."""
    if not n or total is None or squares is None:
        return None
    mean = total / n
    return math.sqrt(max(squares / n - mean * mean, 0.0))


def experiment_stats(project_id: Any) -> dict[str, Any]:
    """What ``read_project(include_stats=True)`` reads for an experiment."""
    from runs.query import stats
    from runs.query.scope import StatsScope

    summary = stats.summary(StatsScope(project_ids=[project_id]))
    latency = summary["latency_ms"]

    def seconds(ms: float | None) -> float | None:
        return None if ms is None else ms / 1000

    return {
        "latency_p50": seconds(latency.get("p50")),
        "latency_p99": seconds(latency.get("p99")),
        "prompt_tokens": summary["tokens"]["prompt"],
        "completion_tokens": summary["tokens"]["completion"],
        "total_tokens": summary["tokens"]["total"],
        "error_rate": summary["error_rate"],
        "feedback_stats": feedback_stats([project_id]).get(project_id) or None,
        "session_feedback_stats": feedback_stats([project_id], session_level=True).get(
            project_id
        )
        or None,
        # Costs come with the project's counts (``project_counts``).
        "first_token_p50": None,
        "first_token_p99": None,
    }
