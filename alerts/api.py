"""``{API_PREFIX}/alerts``: alert rules (CRUD) and the deliveries each one sent.

``project`` is a project *name* in and out (a new name creates the project,
as ``create_api_key --project`` does); ``null`` or absent means every project.
A project-scoped key sees and manages only its project's rules, and its rules
default to its project.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request

from alerts import webhooks
from alerts.models import AlertDelivery, AlertRule
from runs.api.auth import limit_to_scope, project_scope
from runs.models import Project

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_DELIVERIES = 1000


@extend_schema_field(OpenApiTypes.NUMBER)
class ThresholdField(serializers.Field):
    """A JSON number, kept as sent (an integer stays an integer)."""

    default_error_messages = {"invalid": "A JSON number is required."}

    def to_internal_value(self, data: Any) -> int | float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ProjectNameField(serializers.CharField):
    def to_representation(self, value: Any) -> str:
        return value.name if isinstance(value, Project) else str(value)


class AlertRuleSerializer(serializers.ModelSerializer):
    project = ProjectNameField(
        max_length=255, allow_null=True, required=False, default=None
    )
    threshold = ThresholdField()
    window_minutes = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_MINUTES)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "project",
            "metric",
            "feedback_key",
            "comparison",
            "threshold",
            "window_minutes",
            "webhook_url",
            "secret",
            "enabled",
            "firing",
            "fired_at",
            "last_value",
            "last_evaluated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "firing",
            "fired_at",
            "last_value",
            "last_evaluated_at",
            "created_at",
            "updated_at",
        ]

    def validate_project(self, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise serializers.ValidationError("Give a project name, or null for all.")
        scope = project_scope(self.context["request"])
        if scope is not None:
            if value is None:
                return scope
            if value != scope:
                raise exceptions.PermissionDenied(
                    f"This API key may only manage alerts of project {scope!r}."
                )
        return value

    def validate_webhook_url(self, value: str) -> str:
        try:
            webhooks.check_url(value)
        except webhooks.UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        metric = attrs.get("metric", getattr(instance, "metric", None))
        key = attrs.get("feedback_key", getattr(instance, "feedback_key", ""))
        threshold = attrs.get("threshold", getattr(instance, "threshold", None))
        if metric == AlertRule.Metric.FEEDBACK_SCORE and not key.strip():
            raise serializers.ValidationError(
                {"feedback_key": "A feedback_score rule needs the feedback key."}
            )
        if metric != AlertRule.Metric.FEEDBACK_SCORE and key:
            raise serializers.ValidationError(
                {"feedback_key": "Only a feedback_score rule takes a feedback key."}
            )
        if metric == AlertRule.Metric.ERROR_RATE and not 0 <= threshold <= 1:
            raise serializers.ValidationError(
                {"threshold": "error_rate is a fraction from 0 to 1 (0.05 is 5%)."}
            )
        return attrs

    def _with_project(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "project" in attrs:
            name = attrs.pop("project")
            attrs["project"] = (
                None if name is None else Project.objects.get_or_create(name=name)[0]
            )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> AlertRule:
        with transaction.atomic():
            return super().create(self._with_project(validated_data))

    def update(self, instance: AlertRule, validated_data: dict[str, Any]) -> AlertRule:
        validated_data["updated_at"] = timezone.now()
        with transaction.atomic():
            return super().update(instance, self._with_project(validated_data))


class AlertDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertDelivery
        fields = [
            "id",
            "rule",
            "event",
            "status",
            "url",
            "payload",
            "attempt_count",
            "http_status",
            "last_error",
            "attempts",
            "created_at",
            "delivered_at",
        ]


def rules_in_scope(request: Request) -> Any:
    return limit_to_scope(
        request, AlertRule.objects.select_related("project").order_by("id")
    )


@extend_schema(tags=["alerts"])
class AlertRuleList(generics.ListCreateAPIView):
    serializer_class = AlertRuleSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return rules_in_scope(self.request)


@extend_schema(tags=["alerts"])
class AlertRuleDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = AlertRuleSerializer

    def get_queryset(self) -> Any:
        return rules_in_scope(self.request)


@extend_schema(tags=["alerts"])
class AlertDeliveryList(generics.ListAPIView):
    """Newest first; ``limit`` (1..1000, default 100) and ``offset``."""

    serializer_class = AlertDeliverySerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return AlertDelivery.objects.none()
        rule = get_object_or_404(rules_in_scope(self.request), pk=self.kwargs["pk"])
        offset = _bounded(self.request, "offset", 0, 0, 10**9)
        limit = _bounded(self.request, "limit", 100, 1, MAX_DELIVERIES)
        return rule.deliveries.all()[offset : offset + limit]


def _bounded(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = "A whole number is required."
        raise exceptions.ValidationError({name: [message]}) from None
    if not low <= value <= high:
        raise exceptions.ValidationError({name: [f"Must be from {low} to {high}."]})
    return value
