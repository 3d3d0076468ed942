"""The run admin: one row per trace by default, searched like the dashboard."""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.db.models import (
    Q,
    QuerySet,
)
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from runs.admin.common import (
    FastChangelistMixin,
    dashboard_url,
    format_duration,
    pretty_json,
)
from runs.admin.run_filters import (
    LevelFilter,
    RunTypeFilter,
    trace_tokens_of_roots,
    traces_of,
)
from runs.models import Run
from runs.purge import delete_traces
from runs.query.filters import filter_runs

PAYLOAD_FIELDS = ("inputs", "outputs", "extra", "events", "serialized", "error")
CHILDREN_SHOWN = 50


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

        runs = Run.objects.filter(trace_id__in=traces_of(queryset)).order_by(
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
        trace_ids = traces_of(queryset)
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
