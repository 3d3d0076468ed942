"""What every admin page of the trace store shares: capped pages, JSON, links."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.paginator import Paginator
from django.db.models import (
    QuerySet,
)
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString

from runs.models import Run
from runs.query.counts import bounded_count
from runs.query.newest import newest_first

MAX_PRETTY_CHARS = 200_000


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


def run_link(run_id: uuid.UUID | None) -> SafeString | str:
    if not run_id:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:runs_run_change", args=[run_id]), run_id
    )
