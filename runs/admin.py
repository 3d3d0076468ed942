"""Django admin for the trace store.

Run content is attacker-controlled text: every value shown here goes through
``format_html``/auto-escaping, and JSON is shown read-only in ``<pre>`` blocks.
Changelists never count a million rows: counts stop at ``CappedPaginator.CAP``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import (
    BigIntegerField,
    Case,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from runs.models import ApiKey, Attachment, Feedback, ModelPrice, Project, Run
from runs.pricing import invalidate as invalidate_prices
from runs.pricing.local import apply_hint
from runs.purge import delete_traces
from runs.query.counts import bounded_count
from runs.query.filters import filter_runs
from runs.query.newest import newest_first
from runs.query.roots import only_roots

admin.site.site_header = "Agent Spy administration"
admin.site.site_title = "Agent Spy"
admin.site.index_title = "Traces, projects and keys"
admin.site.site_url = "/"

MAX_PRETTY_CHARS = 200_000
PAYLOAD_FIELDS = ("inputs", "outputs", "extra", "events", "serialized", "error")
CHILDREN_SHOWN = 50


class CappedPaginator(Paginator):
    """Counts at most ``CAP + 1`` rows within a time budget, so a page loads in
    constant time. A list it cannot count that way (too slow, or one a trace
    filter scans: ``runs.query.counts``) is counted only as far as the page
    after the one shown: the exact number when the list ends there, else a
    lower bound with ``many`` set, never a made-up total."""

    CAP = 10_000
    COUNT_BUDGET_MS = 100

    def __init__(
        self, *args: Any, page_hint: int = 1, every_run: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.page_hint = max(page_hint, 1)
        self.counted = True
        # "All runs", newest first: no index orders every run, so a page is
        # read from a recent window first (runs.query.newest).
        self.every_run = every_run

    def page(self, number: Any) -> Any:
        query = getattr(self.object_list, "query", None)
        order = tuple(query.order_by) if query is not None else ()
        if not self.every_run or order[:1] != ("-start_time",):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = newest_first(self.object_list, top - bottom, offset=bottom)
        return self._get_page(rows, number, self)

    @cached_property
    def count(self) -> int:
        # Rows only: no ordering, and none of the display's annotations.
        rows = self.object_list.order_by().values("pk")
        counted = bounded_count(rows, self.CAP, self.COUNT_BUDGET_MS)
        if counted is not None:
            return counted
        probe = (self.page_hint + 1) * self.per_page + 1
        seen = len(rows[:probe])
        self.counted = seen < probe
        return seen

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    @property
    def many(self) -> bool:
        """More rows than ``count`` says, uncounted."""
        return self.count is not None and not self.counted


class FastChangelistMixin:
    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CappedPaginator:
        try:
            page = int(request.GET.get("p", 1))
        except ValueError:
            page = 1
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            page_hint=page,
            every_run=request.GET.get("level") == "all",
        )


def pretty_json(value: Any) -> SafeString:
    """JSON indented and escaped, cut at ``MAX_PRETTY_CHARS``."""
    if value is None:
        return format_html('<span class="quiet">{}</span>', "null")
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    note = ""
    if len(text) > MAX_PRETTY_CHARS:
        note = f"… {len(text) - MAX_PRETTY_CHARS:,} more characters (see the dashboard)"
        text = text[:MAX_PRETTY_CHARS]
    return format_html('<pre class="agentspy-json">{}</pre>{}', text, note)


def dashboard_url(run: Run) -> str:
    return f"{reverse('dashboard:trace', args=[run.trace_id])}?run={run.id}"


def format_duration(run: Run) -> str:
    ms = run.duration_ms
    if ms is None:
        return "—"
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.2f} s"


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
        if self.value() == "all" or _narrowed(request):
            return queryset
        if self.value() == "children":
            return queryset.filter(parent__isnull=False)
        return only_roots(queryset)


def _narrowed(request: HttpRequest) -> bool:
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


def _traces_of(queryset: QuerySet) -> list[uuid.UUID]:
    return list(queryset.order_by().values_list("trace_id", flat=True).distinct())


@admin.register(Run)
class RunAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "run_type",
        "status",
        "project",
        "start_time",
        "duration",
        "tokens",
    ]
    # No date_hierarchy: drawing it runs DISTINCT date_trunc and MIN/MAX over
    # every run (19 s and 3 s on SQLite at 300k runs); these date links cost
    # nothing to draw and filter through the start_time range.
    list_filter = [
        LevelFilter,
        "project",
        RunTypeFilter,
        "status",
        ("start_time", admin.DateFieldListFilter),
    ]
    list_select_related = ["project"]
    search_fields = ["name"]
    search_help_text = "A run or trace id, or text in names, inputs, outputs, errors."
    ordering = ["-start_time"]
    raw_id_fields = ["parent"]
    actions = ["export_traces_jsonl", "delete_whole_traces"]
    fields = [
        "open_in_dashboard",
        "id",
        "trace_id",
        "parent",
        "child_runs",
        "name",
        "run_type",
        "status",
        "project",
        "tags",
        "start_time",
        "end_time",
        "duration",
        "first_token_time",
        "model_name",
        "model_provider",
        ("prompt_tokens", "completion_tokens", "total_tokens"),
        ("prompt_cost", "completion_cost", "total_cost"),
        "price_source",
        "trace_cost",
        "error_text",
        "inputs_pretty",
        "outputs_pretty",
        "extra_pretty",
        "events_pretty",
        "dotted_order",
    ]
    readonly_fields = [
        "open_in_dashboard",
        "id",
        "trace_id",
        "child_runs",
        "start_time",
        "end_time",
        "duration",
        "first_token_time",
        "model_name",
        "model_provider",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_cost",
        "completion_cost",
        "total_cost",
        "price_source",
        "trace_cost",
        "error_text",
        "inputs_pretty",
        "outputs_pretty",
        "extra_pretty",
        "events_pretty",
        "dotted_order",
    ]

    class Media:
        css = {"all": ["agentspy/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs arrive through the API only

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match and match.url_name == "runs_run_changelist":
            # The list shows none of the bodies; do not read them.
            queryset = queryset.defer(*PAYLOAD_FIELDS).annotate(
                trace_tokens=trace_tokens_of_roots()
            )
        return queryset

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            ident = uuid.UUID(term)
        except ValueError:
            pass
        else:
            return queryset.filter(Q(id=ident) | Q(trace_id=ident)), False
        # The query layer's search (FTS5 / trigram index): whole traces.
        return filter_runs({"search": term[:500]}, queryset), False

    @admin.display(description="Total tokens", ordering="total_tokens")
    def tokens(self, run: Run) -> str:
        """A root run shows its whole trace's tokens, as the dashboard does."""
        trace_total = getattr(run, "trace_tokens", None)
        if run.parent_id is None and trace_total is not None:
            return format_html(
                '<span title="The whole trace: this run and its children">{}</span>',
                f"{trace_total:,}",
            )
        return f"{run.total_tokens or 0:,}"

    @admin.display(description="Name", ordering="name")
    def display_name(self, run: Run) -> str:
        return run.name or str(run.id)

    @admin.display(description="Duration")
    def duration(self, run: Run) -> str:
        return format_duration(run)

    @admin.display(description="Dashboard")
    def open_in_dashboard(self, run: Run) -> SafeString:
        return format_html('<a href="{}">Open in the dashboard</a>', dashboard_url(run))

    @admin.display(description="Child runs")
    def child_runs(self, run: Run) -> SafeString | str:
        children = list(
            Run.objects.filter(parent_id=run.id)
            .order_by("start_time")
            .only("id", "name", "run_type", "status")[: CHILDREN_SHOWN + 1]
        )
        if not children:
            return "—"
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> <span class="quiet">{} · {}</span></li>',
            (
                (
                    reverse("admin:runs_run_change", args=[c.id]),
                    c.name or c.id,
                    c.run_type,
                    c.status,
                )
                for c in children[:CHILDREN_SHOWN]
            ),
        )
        more = ""
        if len(children) > CHILDREN_SHOWN:
            more = format_html(
                '<li><a href="{}?parent__id__exact={}">All child runs…</a></li>',
                reverse("admin:runs_run_changelist"),
                run.id,
            )
        return format_html('<ul class="agentspy-children">{}{}</ul>', items, more)

    @admin.display(description="Error")
    def error_text(self, run: Run) -> SafeString | str:
        if not run.error:
            return "—"
        return format_html('<pre class="agentspy-json">{}</pre>', run.error)

    @admin.display(description="Inputs")
    def inputs_pretty(self, run: Run) -> SafeString:
        return pretty_json(run.inputs)

    @admin.display(description="Outputs")
    def outputs_pretty(self, run: Run) -> SafeString:
        return pretty_json(run.outputs)

    @admin.display(description="Extra")
    def extra_pretty(self, run: Run) -> SafeString:
        return pretty_json(run.extra)

    @admin.display(description="Events")
    def events_pretty(self, run: Run) -> SafeString:
        return pretty_json(run.events)

    @admin.action(description="Export the selected runs' traces as JSONL")
    def export_traces_jsonl(
        self, request: HttpRequest, queryset: QuerySet
    ) -> StreamingHttpResponse:
        from runs.export import stream_export

        runs = Run.objects.filter(trace_id__in=_traces_of(queryset)).order_by(
            "trace_id", "dotted_order"
        )
        response = StreamingHttpResponse(
            stream_export(runs, "jsonl"), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = 'attachment; filename="traces.jsonl"'
        return response

    @admin.action(
        description="Delete the selected runs' whole traces", permissions=["delete"]
    )
    def delete_whole_traces(
        self, request: HttpRequest, queryset: QuerySet
    ) -> TemplateResponse | None:
        trace_ids = _traces_of(queryset)
        if request.POST.get("confirm") == "yes":
            outcome = delete_traces(trace_ids)
            self.message_user(
                request,
                f"Deleted {outcome.traces:,} traces ({outcome.runs:,} runs).",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete whole traces?",
            "opts": self.model._meta,
            "trace_count": len(trace_ids),
            "run_count": Run.objects.filter(trace_id__in=trace_ids).count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "action": "delete_whole_traces",
        }
        return TemplateResponse(
            request, "admin/runs/run/delete_traces_confirmation.html", context
        )


@admin.register(Project)
class ProjectAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["name", "retention_days", "created_at", "links"]
    search_fields = ["name", "description"]
    list_filter = ["retention_days"]
    readonly_fields = ["id", "created_at", "links"]

    @admin.display(description="Dashboard")
    def links(self, project: Project) -> SafeString:
        query = f"?project={quote(project.name)}"
        return format_html(
            '<a href="{}">Traces</a> · <a href="{}">Overview</a>',
            reverse("dashboard:traces") + query,
            reverse("dashboard:overview") + query,
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The default lists every run of the project, loading them all; a count
        # says the same. (The delete itself is one DELETE: runs cascade fast.)
        projects = list(objs)
        summary = [format_html("Project: {}", p.name) for p in projects]
        runs = Run.objects.filter(project__in=projects).count()
        return summary, {"projects": len(projects), "runs": runs}, set(), []


def _run_link(run_id: uuid.UUID | None) -> SafeString | str:
    if not run_id:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:runs_run_change", args=[run_id]), run_id
    )


@admin.register(Feedback)
class FeedbackAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["key", "score", "short_value", "run", "created_at"]
    list_filter = ["key"]
    search_fields = ["key", "comment"]
    ordering = ["-created_at"]
    readonly_fields = ["run", "value_pretty", "source_pretty", "created_at"]
    exclude = ["value", "source", "correction", "extra"]

    @admin.display(description="Value")
    def short_value(self, feedback: Feedback) -> str:
        text = "" if feedback.value is None else json.dumps(feedback.value)
        return text[:80]

    @admin.display(description="Run")
    def run(self, feedback: Feedback) -> SafeString | str:
        return _run_link(feedback.run_id)

    @admin.display(description="Value")
    def value_pretty(self, feedback: Feedback) -> SafeString:
        return pretty_json(feedback.value)

    @admin.display(description="Source")
    def source_pretty(self, feedback: Feedback) -> SafeString:
        return pretty_json(feedback.source)


@admin.register(Attachment)
class AttachmentAdmin(FastChangelistMixin, admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "run", "created_at", "download"]
    list_filter = ["content_type"]
    search_fields = ["name"]
    ordering = ["-created_at"]
    fields = [
        "name",
        "content_type",
        "size",
        "run",
        "trace_id",
        "created_at",
        "download",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Run")
    def run(self, attachment: Attachment) -> SafeString | str:
        return _run_link(attachment.run_id)

    @admin.display(description="File")
    def download(self, attachment: Attachment) -> SafeString:
        return format_html(
            '<a href="{}">Download</a>',
            reverse("dashboard:attachment", args=[attachment.pk]),
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``manage.py create_api_key`` (it shows the key once)."""

    list_display = [
        "name",
        "prefix",
        "project",
        "read_only",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["read_only", "project"]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "prefix",
        "project",
        "read_only",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    """Local prices, which override genai-prices for new runs at once."""

    list_display = [
        "model",
        "is_pattern",
        "provider",
        "input_per_mtok",
        "output_per_mtok",
        "cache_read_per_mtok",
        "cache_write_per_mtok",
        "updated_at",
    ]
    search_fields = ["model", "provider"]
    readonly_fields = ["updated_at"]

    def save_model(
        self, request: HttpRequest, obj: ModelPrice, form: Any, change: bool
    ) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        invalidate_prices()
        self.message_user(request, apply_hint(obj), messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: ModelPrice) -> None:
        super().delete_model(request, obj)
        invalidate_prices()
        self.message_user(request, apply_hint(obj), messages.WARNING)
