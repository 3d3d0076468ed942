"""Runs, projects and feedback in LangSmith's JSON shapes (protocol §6).

The domain's own description of a stored run, used by the API's responses and by
``runs.export`` alike: it sits below the faces so the export (and the commands
on top of it) need not import the API.
"""

from __future__ import annotations

from typing import Any

from runs.models import TENANT_ID, Feedback, Project, Run
from runs.thread_models import thread_key


def run_to_dict(run: Run, *, child_run_ids: list[str] | None = None) -> dict[str, Any]:
    """A LangSmith ``Run``: every key present, none of the required ones null."""
    return {
        "id": str(run.id),
        "name": run.name,
        "run_type": run.run_type,
        "start_time": run.start_time.isoformat(),
        "end_time": run.end_time.isoformat() if run.end_time else None,
        "trace_id": str(run.trace_id),
        "dotted_order": run.dotted_order,
        "parent_run_id": str(run.parent_id) if run.parent_id else None,
        "session_id": str(run.project_id) if run.project_id else None,
        "inputs": run.inputs if isinstance(run.inputs, dict) else {},
        "outputs": run.outputs,
        "error": run.error,
        "extra": run.extra or {},
        "events": run.events or [],
        "serialized": run.serialized,
        "tags": run.tags or [],
        "reference_example_id": str(run.reference_example_id)
        if run.reference_example_id
        else None,
        "status": run.status,
        "child_run_ids": child_run_ids if child_run_ids is not None else [],
        "parent_run_ids": run.parent_run_ids,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "total_tokens": run.total_tokens,
        "first_token_time": run.first_token_time.isoformat()
        if run.first_token_time
        else None,
        "feedback_stats": None,
        "app_path": f"/traces/{run.trace_id}?run={run.id}",
        "in_dataset": False,
        "model_name": run.model_name or None,
        "model_provider": run.model_provider or None,
        # What the deprecated Client.list_threads groups root runs by.
        "thread_id": thread_key(run.extra) or None,
        # US dollars; null when unknown (not an LLM call, or no price).
        "prompt_cost": run.prompt_cost,
        "completion_cost": run.completion_cost,
        "total_cost": run.total_cost,
    }


def with_trace_totals(row: dict[str, Any], totals: dict[str, Any] | None) -> None:
    """A root's tokens and costs are its trace's, as LangSmith reports them."""
    if totals is None:
        return
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        row[name] = totals[f"trace_{name}"]
    row["prompt_cost"] = totals["trace_prompt_cost"]
    row["completion_cost"] = totals["trace_completion_cost"]
    row["total_cost"] = totals["trace_total_cost"]


def project_to_dict(project: Project, **stats: Any) -> dict[str, Any]:
    """A LangSmith ``TracerSession``."""
    return {
        "id": str(project.id),
        "name": project.name,
        "description": project.description or None,
        "start_time": project.created_at.isoformat(),
        "end_time": project.end_time.isoformat() if project.end_time else None,
        "extra": {"metadata": project.metadata} if project.metadata else None,
        "tenant_id": str(TENANT_ID),
        "reference_dataset_id": str(project.reference_dataset_id)
        if project.reference_dataset_id
        else None,
        "default_dataset_id": None,
        "trace_tier": "longlived",
        "retention_days": project.retention_days,
        **stats,
    }


def feedback_to_dict(feedback: Feedback) -> dict[str, Any]:
    return {
        "id": str(feedback.id),
        "created_at": feedback.created_at.isoformat(),
        "modified_at": feedback.modified_at.isoformat(),
        "run_id": str(feedback.run_id) if feedback.run_id else None,
        "trace_id": str(feedback.trace_id) if feedback.trace_id else None,
        "session_id": str(feedback.session_id) if feedback.session_id else None,
        "key": feedback.key,
        "score": feedback.score,
        "value": feedback.value,
        "comment": feedback.comment,
        "correction": feedback.correction,
        "feedback_source": feedback.source,
        "extra": feedback.extra,
        "comparative_experiment_id": str(feedback.comparative_experiment_id)
        if feedback.comparative_experiment_id
        else None,
        "feedback_group_id": str(feedback.feedback_group_id)
        if feedback.feedback_group_id
        else None,
    }
