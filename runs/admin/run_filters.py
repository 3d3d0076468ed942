"""The run list's filters: which level of the tree, which run type."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import (
    BigIntegerField,
    Case,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.http import HttpRequest

from runs.models import Run
from runs.query.roots import only_roots


class LevelFilter(admin.SimpleListFilter):
    """Root runs (one per trace) unless asked for all runs.

    Roots are what a person browses, and their newest-first order comes from a
    partial index; sorting every run by start time reads the whole table.
    """

    title = "level"
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("all", "All runs"), ("children", "Child runs only")]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Root runs (traces)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "all" or narrowed(request):
            return queryset
        if self.value() == "children":
            return queryset.filter(parent__isnull=False)
        return only_roots(queryset)


def narrowed(request: HttpRequest) -> bool:
    """A run or trace id, or a parent link, asks for specific runs whatever
    their level. A text search selects whole traces and lists their roots,
    like the dashboard ("All runs" lists every run of those traces): sorting
    every run of the traces of a common word took seconds at a million runs.
    """
    if request.GET.get("parent__id__exact"):
        return True
    try:
        uuid.UUID(request.GET.get("q", "").strip())
    except ValueError:
        return False
    return True


class RunTypeFilter(admin.SimpleListFilter):
    """Fixed choices: listing the distinct run types would scan every run."""

    title = "run type"
    parameter_name = "run_type"
    TYPES = ("chain", "llm", "chat_model", "tool", "retriever", "embedding", "prompt")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t, t) for t in self.TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(run_type=self.value()) if self.value() else queryset


def trace_tokens_of_roots() -> Subquery:
    """Token total of the row's trace, for root rows (one indexed sum each)."""
    totals = (
        Run.objects.filter(trace_id=OuterRef("trace_id"))
        .order_by()
        .values("trace_id")
        .annotate(total=Sum("total_tokens"))
        .values("total")
    )
    return Case(
        When(parent__isnull=True, then=Subquery(totals)),
        default=Value(None),
        output_field=BigIntegerField(),
    )


def traces_of(queryset: QuerySet) -> list[uuid.UUID]:
    return list(queryset.order_by().values_list("trace_id", flat=True).distinct())
