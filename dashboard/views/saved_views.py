"""Saved views of the traces page: save the current filters under a name, open
a view by its permanent link ``/views/<id>``, delete one.

Any visitor of the dashboard may save a view, viewers too: a view names
filters, it holds no data. Its author or staff may delete it (anyone, for a
view saved while login was off, as long as login stays off).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from dashboard.models import SavedView
from dashboard.views.common import dashboard_view
from dashboard.views.feedback import refuse

SHOWN = 200


def may_delete(user: Any, view: SavedView) -> bool:
    if user is not None and user.is_authenticated:
        return user.is_staff or user.is_superuser or view.author_id == user.pk
    return view.author_id is None and not settings.REQUIRE_AUTH


def saved_views(request: HttpRequest) -> list[SavedView]:
    """The views the traces page lists, each marked with whether it may go."""
    views = list(SavedView.objects.select_related("author")[:SHOWN])
    for view in views:
        view.deletable = may_delete(request.user, view)
    return views


@require_POST
@dashboard_view
def save(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    view = SavedView(
        name=request.POST.get("name", "").strip(),
        query=request.POST.get("query", ""),
        author=user,
    )
    try:
        view.full_clean()
        with transaction.atomic():
            view.save()
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        return refuse(request, errors, title="View not saved")
    except IntegrityError:  # saved under the same name meanwhile
        errors = {"name": "A view with this name exists."}
        return refuse(request, errors, "View not saved")
    return HttpResponseRedirect(view.traces_url)


@dashboard_view
def open_view(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponseRedirect(get_object_or_404(SavedView, pk=pk).traces_url)


@require_POST
@dashboard_view
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk)
    if not may_delete(request.user, view):
        return refuse(
            request,
            {"view": "Only its author or staff may delete it."},
            "View not deleted",
            status=403,
        )
    back = view.traces_url
    view.delete()
    # Back to the traces page, with the deleted view's filters still applied.
    return HttpResponseRedirect(back)
