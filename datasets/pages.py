"""What the dataset pages show: experiment tables and side-by-side comparisons.

Run counts, latency and tokens come from the hourly rollups (``runs.query``);
scores are feedback averaged per key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, QuerySet

from datasets.models import Dataset, Example
from runs.models import Feedback, Project, Run
from runs.query import stats
from runs.query.feedback_stats import feedback_stats
from runs.query.scope import StatsScope

MAX_EXPERIMENTS = 50
MAX_COMPARED = 6


def experiments_of(dataset: Dataset, projects: QuerySet) -> list[Project]:
    """The dataset's experiments among ``projects``, newest first."""
    return list(
        projects.filter(reference_dataset_id=dataset.pk).order_by("-created_at", "id")[
            :MAX_EXPERIMENTS
        ]
    )


def experiment_rows(experiments: list[Project]) -> tuple[list[str], list[dict]]:
    """Feedback keys, and one row per experiment (scores, latency, tokens, errors)."""
    scores = feedback_stats([p.id for p in experiments])
    keys = sorted({k for s in scores.values() for k in s})
    rows = []
    for project in experiments:
        summary = stats.summary(StatsScope(project_ids=[project.id]))
        rows.append(
            {
                "project": project,
                "scores": [
                    (scores.get(project.id) or {}).get(k, {}).get("avg") for k in keys
                ],
                "runs": summary["total_traces"],
                "p50": summary["latency_ms"]["p50"],
                "p95": summary["latency_ms"]["p95"],
                "tokens": summary["tokens"]["total"],
                "errors": summary["error_runs"],
                # Filled by the cost work when it lands; shown as "—" until then.
                # Null (shown as "—") when every LLM run of it is unpriced.
                "cost": (
                    summary["cost"]["total"]
                    if summary["cost"]["total"] or not summary["unpriced_runs"]
                    else None
                ),
            }
        )
    return keys, rows


@dataclass
class Cell:
    """One experiment's answer to one example (averaged over repetitions)."""

    outputs: Any = None
    error: str | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    runs: int = 0
    trace_id: uuid.UUID | None = None
    # Per key: "regression", "improvement" or "" against the baseline.
    changes: dict[str, str] = field(default_factory=dict)


@dataclass
class ComparisonRow:
    example: Example
    cells: list[Cell]
    regressions: int = 0
    improvements: int = 0


def compare(
    dataset: Dataset, experiments: list[Project], examples: QuerySet
) -> tuple[list[str], list[ComparisonRow]]:
    """Per example, each experiment's outputs and scores; the first is the
    baseline and a lower (higher) score elsewhere is a regression (improvement)."""
    examples = list(examples)
    ids = [p.id for p in experiments]
    runs = (
        Run.objects.filter(
            project_id__in=ids,
            parent__isnull=True,
            reference_example_id__in=[e.id for e in examples],
        )
        .only(
            "id", "project_id", "reference_example_id", "outputs", "error", "trace_id"
        )
        .order_by("start_time", "id")
    )
    cells: dict[tuple[Any, Any], Cell] = {}
    run_cell: dict[uuid.UUID, Cell] = {}
    for run in runs:
        cell = cells.setdefault((run.reference_example_id, run.project_id), Cell())
        if cell.runs == 0:
            cell.outputs, cell.error, cell.trace_id = (
                run.outputs,
                run.error,
                run.trace_id,
            )
        cell.runs += 1
        run_cell[run.id] = cell
    keys: set[str] = set()
    by_cell: dict[int, dict[str, list]] = {}
    averages = (
        Feedback.objects.filter(
            run_id__in=list(run_cell), comparative_experiment_id=None
        )
        .values("run_id", "key")
        .annotate(avg=Avg("score"))
        .order_by()
    )
    for row in averages:
        keys.add(row["key"])
        cell = run_cell[row["run_id"]]
        by_cell.setdefault(id(cell), {}).setdefault(row["key"], []).append(row["avg"])
    for cell in run_cell.values():
        for key, values in by_cell.get(id(cell), {}).items():
            numbers = [v for v in values if v is not None]
            cell.scores[key] = sum(numbers) / len(numbers) if numbers else None
    ordered_keys = sorted(keys)
    rows = []
    for example in examples:
        row = ComparisonRow(
            example, [cells.get((example.id, pid), Cell()) for pid in ids]
        )
        baseline = row.cells[0]
        for cell in row.cells[1:]:
            for key in ordered_keys:
                base, score = baseline.scores.get(key), cell.scores.get(key)
                if base is None or score is None or base == score:
                    continue
                if score < base:
                    cell.changes[key] = "regression"
                    row.regressions += 1
                else:
                    cell.changes[key] = "improvement"
                    row.improvements += 1
        rows.append(row)
    return ordered_keys, rows
