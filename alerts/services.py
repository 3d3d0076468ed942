"""Evaluate alert rules and deliver the notifications their transitions cause.

A rule's state changes in a short transaction that locks its row (PostgreSQL
``SELECT ... FOR UPDATE``; SQLite's write lock is taken at BEGIN), and the
delivery row is created in the same transaction: two evaluators running at
once cannot both send "fired". Deliveries are then sent outside any
transaction, side by side, each retried with doubling backoff while the pass
has time left (``ALERT_RUN_SECONDS``), and every attempt is recorded.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts import webhooks
from alerts.measure import measure, window_bounds
from alerts.models import AlertDelivery, AlertRule

logger = logging.getLogger("agentspy.alerts")

Event = AlertDelivery.Event
Status = AlertDelivery.Status
SENDERS = 8


@dataclass
class Evaluation:
    rule_id: int
    value: float | None
    breached: bool
    event: str | None
    delivery: AlertDelivery | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def traces_url(rule: AlertRule, now: datetime) -> str:
    """The dashboard's traces page for the rule's project and window.

    Error rules add ``has_error=true`` (traces with any failed run): the error
    rate counts every failed run, not only failed roots.
    """
    start, end = window_bounds(rule, now)
    params = {}
    if rule.project is not None:
        params["project"] = rule.project.name
    params["start_time_gte"] = _iso(start)
    params["start_time_lte"] = _iso(end)
    if rule.metric == AlertRule.Metric.ERROR_RATE:
        params["has_error"] = "true"
    return f"{settings.BASE_URL}/traces?{urlencode(params)}"


def build_payload(
    rule: AlertRule, value: float | None, now: datetime, event: str
) -> dict:
    resolved = event == Event.RESOLVED
    return {
        "rule": rule.name,
        "rule_id": rule.pk,
        "project": rule.project.name if rule.project else None,
        "metric": rule.metric,
        "feedback_key": rule.feedback_key or None,
        "comparison": rule.comparison,
        "value": value,
        "threshold": rule.threshold,
        "window_minutes": rule.window_minutes,
        "fired_at": _iso(rule.fired_at or now),
        "resolved": resolved,
        "resolved_at": _iso(now) if resolved else None,
        "url": traces_url(rule, now),
    }


def evaluate_rules(*, now: datetime | None = None) -> list[Evaluation]:
    """Evaluate every enabled rule once, then send what changed; one pass."""
    started = time.monotonic()
    now = now or timezone.now()
    evaluations = []
    for rule in AlertRule.objects.filter(enabled=True).select_related("project"):
        try:
            value = measure(rule, now)
            evaluations.append(_transition(rule.pk, value, now))
        except Exception:
            # One broken rule (or a deleted one) must not silence the others.
            logger.exception("alert rule %s could not be evaluated", rule.pk)
    deliveries = [e.delivery for e in evaluations if e.delivery is not None]
    deadline = started + settings.ALERT_RUN_SECONDS
    if deliveries:
        # Threads only talk HTTP; rows are saved here, by this connection.
        with ThreadPoolExecutor(max_workers=min(SENDERS, len(deliveries))) as pool:
            sending = [pool.submit(send, d, deadline=deadline) for d in deliveries]
            for future in as_completed(sending):
                _save(future.result())
    return evaluations


def _transition(rule_id: int, value: float | None, now: datetime) -> Evaluation:
    with transaction.atomic():
        rule = (
            # Only the rule's row: PostgreSQL cannot lock the nullable side of
            # the outer join to its project.
            AlertRule.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=rule_id)
        )
        breached = rule.breached_by(value)
        event = None
        if breached and not rule.firing:
            event = Event.FIRED
            rule.firing, rule.fired_at = True, now
        elif not breached and rule.firing:
            event = Event.RESOLVED
            rule.firing = False
        rule.last_value, rule.last_evaluated_at = value, now
        rule.save(
            update_fields=["firing", "fired_at", "last_value", "last_evaluated_at"]
        )
        delivery = None
        if event is not None:
            delivery = AlertDelivery.objects.create(
                rule=rule,
                event=event,
                url=rule.webhook_url,
                payload=build_payload(rule, value, now, event),
                created_at=now,
            )
            logger.info(
                "alert %s %s: %s is %s (%s)",
                rule.name,
                event,
                rule.metric,
                value,
                rule.condition,
                extra={"rule_id": rule.pk, "event": event, "value": value},
            )
    return Evaluation(rule_id, value, breached, event, delivery)


def deliver(delivery: AlertDelivery, *, deadline: float) -> AlertDelivery:
    """Send one delivery (see ``send``) and record the outcome."""
    return _save(send(delivery, deadline=deadline))


def send(delivery: AlertDelivery, *, deadline: float) -> AlertDelivery:
    """Post one delivery, retrying with backoff until it succeeds or time is up.

    Fills in the delivery's attempts and outcome; saves nothing.
    """
    body = webhooks.request_body(delivery.url, delivery.payload)
    headers = {
        "X-AgentSpy-Event": delivery.event,
        "X-AgentSpy-Delivery": str(delivery.pk),
    }
    secret = delivery.rule.secret
    if secret:
        headers[webhooks.SIGNATURE_HEADER] = webhooks.signature(secret, body)
    backoff = settings.ALERT_RETRY_BACKOFF
    for number in range(1, settings.ALERT_MAX_ATTEMPTS + 1):
        remaining = deadline - time.monotonic()
        if remaining < 0.5:
            delivery.last_error = (
                delivery.last_error or "No time left in this evaluation pass."
            )
            break
        began = time.monotonic()
        attempt = webhooks.post(
            delivery.url,
            body,
            headers,
            timeout=min(settings.ALERT_WEBHOOK_TIMEOUT, remaining),
        )
        delivery.attempts.append(
            {
                "attempt": number,
                "at": _iso(timezone.now()),
                "http_status": attempt.http_status,
                "error": attempt.error,
                "duration_ms": round((time.monotonic() - began) * 1000, 1),
            }
        )
        delivery.attempt_count = number
        delivery.http_status = attempt.http_status
        delivery.last_error = attempt.error
        if attempt.ok:
            delivery.status = Status.DELIVERED
            delivery.delivered_at = timezone.now()
            break
        if not attempt.retryable or number == settings.ALERT_MAX_ATTEMPTS:
            break
        wait = backoff * 2 ** (number - 1)
        if time.monotonic() + wait > deadline - 0.5:
            break
        time.sleep(wait)
    if delivery.status != Status.DELIVERED:
        delivery.status = Status.FAILED
        logger.warning(
            "alert delivery %s to %s failed after %s attempt(s): %s",
            delivery.pk,
            delivery.url,
            delivery.attempt_count,
            delivery.last_error,
        )
    return delivery


def _save(delivery: AlertDelivery) -> AlertDelivery:
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "attempt_count",
            "http_status",
            "last_error",
            "delivered_at",
        ]
    )
    return delivery
