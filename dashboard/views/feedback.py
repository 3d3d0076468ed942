"""Feedback from the page: thumbs, a score with a key, a comment; edit and delete.

Plain HTML forms (no script): each posts here and is sent back to the page it
came from. Rows are the LangSmith API's ``Feedback`` rows, saved by the same
service (``runs.feedback``); the author is the signed-in user, or anonymous
when login is off.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.views.common import dashboard_view, limit_to_project, page
from runs.feedback import (
    ANONYMOUS,
    app_source,
    feedback_of_runs,
    is_authored_by,
    save_feedback,
    update_feedback,
)
from runs.ingest.extras import feedback_from_payload
from runs.ingest.normalize import InvalidField
from runs.models import Feedback, Run

MAX_COMMENT = 10_000


def author(request: HttpRequest) -> tuple[str | None, str]:
    """(user id, user name) of whoever gives feedback from this request."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk), user.get_username()
    return None, ANONYMOUS


def feedback_rows(
    request: HttpRequest, run_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Feedback]]:
    """Feedback of these runs with each row's author and whether it is ours."""
    me = author(request)
    rows = feedback_of_runs(run_ids)
    for found in rows.values():
        for row in found:
            source = row.source if isinstance(row.source, dict) else {}
            row.author = source.get("user_name") or source.get("type") or "API"
            row.own = is_authored_by(row, *me)
    return rows


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if safe and target else "/")


def refuse(
    request: HttpRequest,
    errors: dict[str, str],
    title: str = "Feedback not saved",
    status: int = 400,
) -> HttpResponse:
    """The page saying why a form was refused, each field with its reason."""
    context = {"errors": errors, "next": request.POST.get("next", ""), "title": title}
    return page(request, "dashboard/feedback_error.html", context, status=status)


def _score(raw: str, errors: dict[str, str]) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        score = float(raw)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        errors["score"] = "Expected a number."
        return None
    return score


def _comment(raw: str, errors: dict[str, str]) -> str | None:
    if len(raw) > MAX_COMMENT:
        errors["comment"] = f"At most {MAX_COMMENT:,} characters."
    return raw.strip() or None


def record_feedback(request: HttpRequest, run_id_text: str) -> dict[str, str]:
    """Save the feedback this POST describes (key, score, comment) on the run,
    authored by the visitor; the errors, empty when it was saved.

    The one write path of the page's feedback: the thumbs, the score form and
    the annotation queues all come through here.
    """
    errors: dict[str, str] = {}
    try:
        run_id = uuid.UUID(run_id_text)
    except ValueError:
        return {"run_id": "Not a run id."}
    runs = limit_to_project(request, Run.objects.filter(id=run_id))
    run = runs.values("trace_id", "project_id").first()
    if run is None:
        return {"run_id": "No such run."}
    key = request.POST.get("key", "").strip()
    if not key:
        errors["key"] = "A feedback key is required."
    score = _score(request.POST.get("score", ""), errors)
    comment = _comment(request.POST.get("comment", ""), errors)
    if errors:
        return errors
    user_id, user_name = author(request)
    payload: dict[str, Any] = {
        "run_id": str(run_id),
        "key": key[:255],
        "score": score,
        "comment": comment,
        "feedback_source": app_source(user_id, user_name),
    }
    try:
        feedback = feedback_from_payload(payload)
    except InvalidField as exc:  # pragma: no cover - the form checked each field
        return {exc.field: exc.message}
    save_feedback(feedback, run)
    return {}


@require_POST
@dashboard_view
def create(request: HttpRequest) -> HttpResponse:
    errors = record_feedback(request, request.POST.get("run_id", ""))
    return refuse(request, errors) if errors else _back(request)


def _own(request: HttpRequest, pk: uuid.UUID) -> Feedback | None:
    feedback = get_object_or_404(Feedback, pk=pk)
    return feedback if is_authored_by(feedback, *author(request)) else None


@require_POST
@dashboard_view
def edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    feedback = _own(request, pk)
    if feedback is None:
        return refuse(request, {"feedback": "Only its author may change it."})
    errors: dict[str, str] = {}
    score = _score(request.POST.get("score", ""), errors)
    comment = _comment(request.POST.get("comment", ""), errors)
    if errors:
        return refuse(request, errors)
    update_feedback(feedback, score=score, comment=comment)
    return _back(request)


@require_POST
@dashboard_view
def delete(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    feedback = _own(request, pk)
    if feedback is None:
        return refuse(request, {"feedback": "Only its author may delete it."})
    feedback.delete()
    return _back(request)
