"""Alert rules over a project's recent runs, and the webhook deliveries they sent."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from runs.models import Project


class AlertRule(models.Model):
    """A metric of the runs started in the last ``window_minutes``, against a threshold.

    ``firing`` is the rule's state: a breach while not firing sends one
    "fired" notification, a clear while firing one "resolved" notification.
    """

    class Metric(models.TextChoices):
        ERROR_RATE = "error_rate", "error rate (0..1)"
        P95_LATENCY_MS = "p95_latency_ms", "p95 trace latency (ms)"
        RUN_COUNT = "run_count", "runs"
        TOTAL_TOKENS = "total_tokens", "total tokens"
        TOTAL_COST = "total_cost", "total cost"
        FEEDBACK_SCORE = "feedback_score", "average feedback score"

    class Comparison(models.TextChoices):
        GT = "gt", "greater than"
        LT = "lt", "less than"

    name = models.CharField(max_length=255)
    # Empty: every project together.
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    metric = models.CharField(max_length=32, choices=Metric.choices)
    feedback_key = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="The feedback key averaged by a feedback_score rule.",
    )
    comparison = models.CharField(max_length=2, choices=Comparison.choices)
    # Kept as the JSON number it was sent as (5 stays 5, 0.25 stays 0.25).
    threshold = models.JSONField()
    window_minutes = models.PositiveIntegerField()
    webhook_url = models.URLField(max_length=2048)
    secret = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Signs each delivery (X-AgentSpy-Signature-256) when set.",
    )
    enabled = models.BooleanField(default=True)
    firing = models.BooleanField(default=False)
    fired_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What the API checks too, for rules saved through the admin."""
        threshold = self.threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise ValidationError({"threshold": "A JSON number is required."})
        if self.metric == self.Metric.ERROR_RATE and not 0 <= threshold <= 1:
            raise ValidationError(
                {"threshold": "error_rate is a fraction from 0 to 1 (0.05 is 5%)."}
            )
        is_feedback = self.metric == self.Metric.FEEDBACK_SCORE
        if is_feedback != bool(self.feedback_key.strip()):
            message = "A feedback_score rule needs a feedback key; others take none."
            raise ValidationError({"feedback_key": message})
        if self.webhook_url.split(":", 1)[0].lower() not in ("http", "https"):
            raise ValidationError(
                {"webhook_url": "Only http and https webhook URLs are allowed."}
            )

    @property
    def condition(self) -> str:
        sign = ">" if self.comparison == self.Comparison.GT else "<"
        metric = self.metric
        if self.metric == self.Metric.FEEDBACK_SCORE:
            metric = f"feedback_score[{self.feedback_key}]"
        return f"{metric} {sign} {self.threshold} over {self.window_minutes} min"

    def breached_by(self, value: float | None) -> bool:
        """No data (``None``) never breaches: a cost rule waits for costs."""
        if value is None:
            return False
        threshold = float(self.threshold)
        if self.comparison == self.Comparison.GT:
            return value > threshold
        return value < threshold


class AlertDelivery(models.Model):
    """One notification to a rule's webhook, with every attempt made to send it."""

    class Event(models.TextChoices):
        FIRED = "fired"
        RESOLVED = "resolved"

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=16, choices=Event.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    url = models.URLField(max_length=2048)
    payload = models.JSONField()
    # [{"attempt", "at", "http_status", "error", "duration_ms"}, ...]
    attempts = models.JSONField(default=list)
    attempt_count = models.PositiveIntegerField(default=0)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["rule", "-created_at"], name="delivery_rule_created")
        ]
        verbose_name_plural = "alert deliveries"

    def __str__(self) -> str:
        return f"{self.rule} {self.event} ({self.status})"
