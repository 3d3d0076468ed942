"""``RunFilter``: every run filter, declared once.

Semantics: ``search``, ``model`` and ``has_error`` select *traces* (a trace
matches when any of its runs matches), because what they look for usually lives
on a descendant (an LLM call's model, a tool's error) while lists show roots.
Every other filter selects the runs themselves.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db import connection
from django.db.models import (
    BooleanField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from runs.ingest.normalize import TIME_RANGE, bounded_utc
from runs.models import Feedback, Project, Run
from runs.query import trace_filters
from runs.query.filter_compiler import metadata_q
from runs.query.filter_language import FilterError, compile_filter
from runs.query.scope import StatsScope

SINCE = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LATENCY = ExpressionWrapper(
    F("end_time") - F("start_time"), output_field=DurationField()
)
# Public ordering name -> model expression (descending with a leading "-").
ORDERINGS = {
    "start_time": "start_time",
    "end_time": "end_time",
    "latency": "latency",
    "name": "name",
    "total_tokens": "total_tokens",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    # A run's own cost; a root's trace_cost is its whole trace's.
    "total_cost": "total_cost",
    "trace_cost": "trace_cost",
    "status": "status",
    "run_type": "run_type",
}
ORDERING_CHOICES = [(k, k) for k in ORDERINGS] + [(f"-{k}", f"-{k}") for k in ORDERINGS]
MAX_LIST_ITEMS = 100


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO-8601 time that both databases can compare (see ``bounded_utc``)."""

    def to_python(self, value: Any) -> datetime | None:
        try:
            result = super().to_python(value)
            return None if result is None else bounded_utc(result)
        except (OverflowError, ValueError):
            raise forms.ValidationError(f"{TIME_RANGE}.") from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class CommaListField(forms.CharField):
    """A comma-separated list (also accepted as repeated parameters)."""

    def clean(self, value: Any) -> list[str]:
        value = super().clean(value)
        items = [item.strip() for item in (value or "").split(",") if item.strip()]
        if len(items) > MAX_LIST_ITEMS:
            raise forms.ValidationError(f"At most {MAX_LIST_ITEMS} items.")
        return items


class UUIDListField(CommaListField):
    def clean(self, value: Any) -> list[uuid.UUID]:
        out = []
        for item in super().clean(value):
            try:
                out.append(uuid.UUID(item))
            except ValueError:
                # As a parameter: a "%" in the item is not a format directive.
                raise forms.ValidationError(
                    "%(item)s is not a UUID.", params={"item": repr(item[:60])}
                ) from None
        return out


class StrictBooleanField(forms.CharField):
    """true/false (also 1/0, yes/no); anything else is an error, not "unset"."""

    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off"}

    def clean(self, value: Any) -> bool | None:
        value = (super().clean(value) or "").strip().lower()
        if not value:
            return None
        if value in self.TRUE:
            return True
        if value in self.FALSE:
            return False
        raise forms.ValidationError("Expected true or false.")


class FilterExpressionField(forms.CharField):
    """A LangSmith filter-language expression, compiled to a ``Q`` once here."""

    def __init__(self, *args: Any, scope: str = "run", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope

    def clean(self, value: Any) -> Q | None:
        value = (super().clean(value) or "").strip()
        if not value:
            return None
        try:
            return compile_filter(value, scope=self.scope)
        except FilterError as exc:
            raise forms.ValidationError(str(exc)) from None


class FilterExpressionFilter(django_filters.Filter):
    field_class = FilterExpressionField

    def filter(self, qs: QuerySet, value: Q | None) -> QuerySet:
        return qs if value is None else qs.filter(value)


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class CommaListFilter(django_filters.Filter):
    field_class = CommaListField


class UUIDListFilter(django_filters.Filter):
    field_class = UUIDListField


def _project_q(value: str, field: str = "project") -> Q:
    """A project given by name or by id."""
    try:
        project_id = uuid.UUID(value)
    except ValueError:
        return Q(**{f"{field}__name": value})
    return Q(**{f"{field}_id": project_id}) | Q(**{f"{field}__name": value})


class RunFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(
        method="filter_project", max_length=255, help_text="Project name or id."
    )
    project_name = django_filters.CharFilter(
        method="filter_project", max_length=255, help_text="Alias of project."
    )
    status = django_filters.ChoiceFilter(choices=Run.Status.choices)
    run_type = django_filters.CharFilter(max_length=64)
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=500,
        help_text="Case-insensitive text in names, inputs, outputs and errors; "
        "selects whole traces.",
    )
    start_time_gte = BoundedIsoDateTimeFilter(
        field_name="start_time", lookup_expr="gte"
    )
    start_time_lte = BoundedIsoDateTimeFilter(
        field_name="start_time", lookup_expr="lte"
    )
    since = django_filters.ChoiceFilter(
        choices=[(k, k) for k in SINCE],
        method="filter_since",
        help_text="Only runs started within this window.",
    )
    tags = CommaListFilter(
        method="filter_tags", help_text="Comma-separated; every tag must be present."
    )
    has_error = StrictBooleanFilter(
        method="filter_has_error", help_text="Traces with (or without) an error."
    )
    model = django_filters.CharFilter(
        method="filter_model",
        max_length=255,
        help_text="Traces with a run of this model name.",
    )
    min_latency_ms = django_filters.NumberFilter(
        method="filter_latency", min_value=0, max_value=10**12
    )
    max_latency_ms = django_filters.NumberFilter(
        method="filter_latency", min_value=0, max_value=10**12
    )
    min_cost = django_filters.NumberFilter(
        method="filter_cost",
        min_value=0,
        max_value=10**9,
        help_text="Traces that cost at least this many US dollars (roots' trace cost).",
    )
    max_cost = django_filters.NumberFilter(
        method="filter_cost",
        min_value=0,
        max_value=10**9,
        help_text="Traces that cost at most this many US dollars (roots' trace cost).",
    )
    feedback_key = django_filters.CharFilter(
        method="filter_feedback",
        max_length=255,
        help_text="Traces with feedback of this key (with feedback_score_gte/_lte: "
        "the same feedback row's score).",
    )
    feedback_score_gte = django_filters.NumberFilter(
        method="filter_feedback", min_value=-(10**12), max_value=10**12
    )
    feedback_score_lte = django_filters.NumberFilter(
        method="filter_feedback", min_value=-(10**12), max_value=10**12
    )
    metadata_key = django_filters.CharFilter(
        method="filter_metadata",
        max_length=255,
        help_text="Runs with this metadata key (with metadata_value: this key "
        "holding that value).",
    )
    metadata_value = django_filters.CharFilter(
        method="filter_metadata",
        max_length=1000,
        help_text="Runs with a metadata entry of this value, compared as text "
        '("7" matches 7); of the key metadata_key when given.',
    )
    trace_ids = UUIDListFilter(method="filter_trace_ids")
    filter = FilterExpressionFilter(
        help_text="LangSmith filter language on the runs listed, e.g. "
        'and(eq(run_type, "llm"), gt(latency, 5)).'
    )
    trace_filter = FilterExpressionFilter(
        scope="trace", help_text="Filter language on the root run of each trace."
    )
    tree_filter = FilterExpressionFilter(
        scope="tree", help_text="Filter language on any run of each trace."
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES, method="filter_ordering"
    )

    class Meta:
        model = Run
        fields: list[str] = []

    def filter_feedback(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        """Key and score bounds match one feedback row; applied once, by the key
        if given, else by the first bound."""
        data = self.form.cleaned_data
        first = next(
            n
            for n in ("feedback_key", "feedback_score_gte", "feedback_score_lte")
            if data.get(n) not in (None, "")
        )
        if name != first:
            return queryset
        rows = Feedback.objects.all()
        if data.get("feedback_key"):
            rows = rows.filter(key=data["feedback_key"])
        if data.get("feedback_score_gte") is not None:
            rows = rows.filter(score__gte=data["feedback_score_gte"])
        if data.get("feedback_score_lte") is not None:
            rows = rows.filter(score__lte=data["feedback_score_lte"])
        # Feedback names its trace, or only its run (the root's own feedback).
        return queryset.filter(
            Q(trace_id__in=rows.exclude(trace_id=None).values("trace_id"))
            | Q(id__in=rows.exclude(run_id=None).values("run_id"))
        )

    def filter_metadata(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Key and value match one entry; applied once, by the key if given."""
        data = self.form.cleaned_data
        key = data.get("metadata_key") or ""
        if name == "metadata_value" and key:
            return queryset
        return queryset.filter(metadata_q(key, data.get("metadata_value") or ""))

    def filter_project(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_project_q(value))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            trace_filters.with_text(value, self._project_scope(queryset))
        )

    def _project_scope(self, queryset: QuerySet) -> set[uuid.UUID] | None:
        """The projects the listed runs are limited to (key scope, filter)."""
        scope = trace_filters.projects_of(queryset)
        data = getattr(self.form, "cleaned_data", {})
        named = data.get("project") or data.get("project_name")
        if named:
            ids = set(
                Project.objects.filter(_project_filter(named)).values_list(
                    "id", flat=True
                )
            )
            scope = ids if scope is None else scope & ids
        return scope

    def filter_since(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(start_time__gte=timezone.now() - SINCE[value])

    def filter_tags(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        for tag in value:
            if connection.vendor == "postgresql":
                queryset = queryset.filter(tags__contains=[tag])
            else:
                # SQLite's JSONField has no containment lookup.
                queryset = queryset.filter(
                    RawSQL(
                        "EXISTS (SELECT 1 FROM json_each(runs_run.tags) "
                        "WHERE json_each.value = %s)",
                        [tag],
                        output_field=BooleanField(),
                    )
                )
        return queryset

    def filter_has_error(
        self, queryset: QuerySet, name: str, value: bool | None
    ) -> QuerySet:
        if value is None:
            return queryset
        errored = trace_filters.with_error()
        return queryset.filter(errored if value else ~errored)

    def filter_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(trace_filters.with_model(value))

    def filter_latency(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if value is None:
            return queryset
        bound = timedelta(milliseconds=float(value))
        lookup = "gte" if name == "min_latency_ms" else "lte"
        return queryset.alias(latency=LATENCY).filter(
            end_time__isnull=False, **{f"latency__{lookup}": bound}
        )

    def filter_cost(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if value is None:
            return queryset
        lookup = "gte" if name == "min_cost" else "lte"
        return queryset.filter(**{f"trace_cost__{lookup}": float(value)})

    def filter_trace_ids(
        self, queryset: QuerySet, name: str, value: list[uuid.UUID]
    ) -> QuerySet:
        return queryset.filter(trace_id__in=value) if value else queryset

    def filter_ordering(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return apply_ordering(queryset, value)


def apply_ordering(queryset: QuerySet, value: str | None) -> QuerySet:
    """Order by a public ordering name, newest first by default; ids break ties."""
    value = value or "-start_time"
    desc = value.startswith("-")
    key = ORDERINGS[value.lstrip("-")]
    if key == "trace_cost":
        # Sorted by cost: the priced traces, walked in the roots-by-cost
        # indexes (0012); a trace with no priced run has no place in the order.
        queryset = queryset.filter(trace_cost__isnull=False)
    if key in ("latency", "total_cost"):
        if key == "latency":
            queryset = queryset.alias(latency=LATENCY)
        expr = F(key).desc(nulls_last=True) if desc else F(key).asc(nulls_last=True)
        return queryset.order_by(expr, "-id" if desc else "id")
    return queryset.order_by(f"-{key}" if desc else key, "-id" if desc else "id")


class InvalidFilter(ValueError):
    """Bad filter values: ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def filter_runs(params: Any, queryset: QuerySet | None = None) -> QuerySet:
    """Apply ``RunFilter`` to ``params`` (a QueryDict or dict); ordered.

    Raises ``InvalidFilter`` naming each bad parameter.
    """
    filterset = RunFilter(
        params, queryset=queryset if queryset is not None else Run.objects.all()
    )
    if not filterset.is_valid():
        raise InvalidFilter(
            {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    qs = filterset.qs
    if not filterset.form.cleaned_data.get("ordering"):
        qs = apply_ordering(qs, None)
    return qs


STATS_FILTERS = ("project", "project_name", "since", "start_time_gte", "start_time_lte")


class StatsFilter(RunFilter):
    """The subset of ``RunFilter`` that the statistics accept."""

    class Meta:
        model = Run
        fields: list[str] = []

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        filters = super().get_filters()
        return {k: v for k, v in filters.items() if k in STATS_FILTERS}

    def stats_scope(self, allowed: QuerySet | None) -> StatsScope:
        """Projects and time range for ``stats.summary``.

        ``allowed`` limits the projects (a scoped key); None allows every one.
        """
        data = self.form.cleaned_data
        project = data.get("project") or data.get("project_name")
        project_ids = None
        if project:
            projects = allowed if allowed is not None else Project.objects.all()
            project_ids = list(
                projects.filter(_project_filter(project)).values_list("id", flat=True)
            )
        elif allowed is not None:
            project_ids = list(allowed.values_list("id", flat=True))
        starts = [data.get("start_time_gte")]
        if data.get("since"):
            starts.append(timezone.now() - SINCE[data["since"]])
        starts = [s for s in starts if s is not None]
        return StatsScope(
            project_ids=project_ids,
            start=max(starts) if starts else None,
            end=data.get("start_time_lte"),
        )


def _project_filter(value: str) -> Q:
    try:
        return Q(id=uuid.UUID(value)) | Q(name=value)
    except ValueError:
        return Q(name=value)
