"""Saved views: named sets of traces-page filters, shared by their URL.

A view is not data: it names filters, and whoever opens it sees what the
traces page shows them (a viewer limited to a project sees only its traces).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from dashboard.trace_params import filter_query

MAX_QUERY = 32_768


class SavedView(models.Model):
    name = models.CharField(max_length=200, unique=True)
    query = models.TextField(
        blank=True,
        help_text="The traces page's query string; only its filter parameters "
        "are kept.",
    )
    # Null when saved with login off, or once its author is deleted.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        """The view's permanent link, which redirects to ``traces_url``."""
        return reverse("dashboard:saved_view", args=[self.pk])

    def clean(self) -> None:
        """Keep the query to the traces page's filters (never a redirect elsewhere)."""
        self.query = filter_query(self.query)
        if len(self.query) > MAX_QUERY:
            raise ValidationError({"query": f"At most {MAX_QUERY:,} characters."})

    @property
    def traces_url(self) -> str:
        """The traces page with this view's filters: a plain, shareable URL."""
        query = filter_query(self.query)
        return reverse("dashboard:traces") + (f"?{query}" if query else "")
