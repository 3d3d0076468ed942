"""Alert rules: every metric, fire/hold/resolve, webhook retries, HMAC, Slack."""

import hashlib
import hmac
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts import measure as measure_module
from alerts import webhooks
from alerts.measure import measure
from alerts.models import AlertDelivery, AlertRule
from alerts.services import build_payload, deliver, evaluate_rules, traces_url
from tests.factories import (
    AlertRuleFactory,
    FeedbackFactory,
    ProjectFactory,
    RunFactory,
)
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.ALERT_RETRY_BACKOFF = 0.01


def ago(minutes: float):
    return NOW - timedelta(minutes=minutes)


def runs(project, n, *, status="success", minutes=1, **fields):
    return [
        RunFactory(project=project, status=status, start_time=ago(minutes), **fields)
        for _ in range(n)
    ]


def test_error_rate_is_the_failed_fraction_of_the_window_runs():
    shop = ProjectFactory(name="shop")
    runs(shop, 3)
    runs(shop, 1, status="error")
    runs(ProjectFactory(name="other"), 4, status="error")
    rule = AlertRuleFactory(project=shop, metric="error_rate")
    assert measure(rule, NOW) == 0.25
    assert measure(AlertRuleFactory(metric="error_rate"), NOW) == 0.625


def test_the_window_is_exact_to_the_minute():
    shop = ProjectFactory(name="shop")
    runs(shop, 2, minutes=9.9)
    runs(shop, 5, minutes=10.1)
    runs(shop, 1, minutes=-1)  # starts in the future: not in the window
    rule = AlertRuleFactory(project=shop, metric="run_count", window_minutes=10)
    assert measure(rule, NOW) == 2


def test_run_count_and_total_tokens_of_an_empty_window_are_zero():
    shop = ProjectFactory(name="shop")
    assert measure(AlertRuleFactory(project=shop, metric="run_count"), NOW) == 0
    assert measure(AlertRuleFactory(project=shop, metric="total_tokens"), NOW) == 0
    assert measure(AlertRuleFactory(project=shop, metric="error_rate"), NOW) is None


def test_total_tokens_sums_every_run_in_the_window():
    shop = ProjectFactory(name="shop")
    runs(shop, 3, total_tokens=100)
    runs(shop, 1, total_tokens=7, minutes=90)
    rule = AlertRuleFactory(project=shop, metric="total_tokens", window_minutes=60)
    assert measure(rule, NOW) == 300


def test_p95_latency_is_the_nearest_rank_of_ended_traces():
    shop = ProjectFactory(name="shop")
    for ms in range(1, 21):  # 20 traces of 1..20 ms: the 19th is the p95
        start = ago(1)
        root = RunFactory(
            project=shop, start_time=start, end_time=start + timedelta(milliseconds=ms)
        )
        # Children are not traces and do not count.
        RunFactory(
            project=shop,
            parent=root,
            start_time=start,
            end_time=start + timedelta(seconds=50),
        )
    RunFactory(project=shop, start_time=ago(1), end_time=None)  # still running
    rule = AlertRuleFactory(project=shop, metric="p95_latency_ms", threshold=5)
    assert measure(rule, NOW) == 19.0
    empty = AlertRuleFactory(
        project=ProjectFactory(name="quiet"), metric="p95_latency_ms"
    )
    assert measure(empty, NOW) is None


def test_feedback_score_averages_the_key_over_window_runs():
    shop = ProjectFactory(name="shop")
    recent = runs(shop, 2)
    old = runs(shop, 1, minutes=120)
    FeedbackFactory(run_id=recent[0].id, key="helpful", score=1.0)
    FeedbackFactory(run_id=recent[1].id, key="helpful", score=0.0)
    FeedbackFactory(run_id=recent[1].id, key="helpful", score=0.5)
    FeedbackFactory(run_id=recent[1].id, key="other", score=0.0)
    FeedbackFactory(run_id=old[0].id, key="helpful", score=0.0)
    rule = AlertRuleFactory(
        project=shop, metric="feedback_score", feedback_key="helpful", threshold=0.6
    )
    assert measure(rule, NOW) == 0.5
    rule.feedback_key = "missing"
    assert measure(rule, NOW) is None


def test_a_cost_rule_does_not_fire_without_cost_data(monkeypatch):
    shop = ProjectFactory(name="shop")
    runs(shop, 2, total_tokens=5)
    rule = AlertRuleFactory(project=shop, metric="total_cost", threshold=0)
    with webhook_receiver() as receiver:
        rule.webhook_url = receiver.url
        rule.save()
        if measure_module.cost_field() is None:
            assert measure(rule, NOW) is None
            evaluate_rules(now=NOW)
            assert receiver.requests == []
        # Once runs carry a cost column its sum is read, rows without one skipped.
        monkeypatch.setattr(measure_module, "cost_field", lambda: "total_tokens")
        assert measure(rule, NOW) == 10.0
        evaluate_rules(now=NOW)
        assert [r.json["metric"] for r in receiver.requests] == ["total_cost"]


def test_fire_hold_and_resolve_send_one_notification_each():
    shop = ProjectFactory(name="shop")
    failing = runs(shop, 2, status="error", minutes=5)
    with webhook_receiver() as receiver:
        rule = AlertRuleFactory(
            project=shop,
            metric="error_rate",
            threshold=0.5,
            window_minutes=10,
            webhook_url=receiver.url,
        )
        [fired] = evaluate_rules(now=NOW)
        assert (fired.value, fired.breached, fired.event) == (1.0, True, "fired")
        [held] = evaluate_rules(now=NOW + timedelta(minutes=1))
        assert (held.breached, held.event) == (True, None)
        for run in failing:
            run.status = "success"
            run.save()
        [resolved] = evaluate_rules(now=NOW + timedelta(minutes=2))
        assert (resolved.value, resolved.event) == (0.0, "resolved")
        [quiet] = evaluate_rules(now=NOW + timedelta(minutes=3))
        assert quiet.event is None
    bodies = [r.json for r in receiver.requests]
    assert [b["resolved"] for b in bodies] == [False, True]
    assert bodies[0] == {
        "rule": rule.name,
        "rule_id": rule.pk,
        "project": "shop",
        "metric": "error_rate",
        "feedback_key": None,
        "comparison": "gt",
        "value": 1.0,
        "threshold": 0.5,
        "window_minutes": 10,
        "fired_at": NOW.isoformat().replace("+00:00", "Z"),
        "resolved": False,
        "resolved_at": None,
        "url": traces_url(rule, NOW),
    }
    assert bodies[1]["fired_at"] == bodies[0]["fired_at"]
    assert bodies[1]["value"] == 0.0
    rule.refresh_from_db()
    assert (rule.firing, rule.last_value) == (False, 0.0)
    assert list(rule.deliveries.values_list("event", "status", "http_status")) == [
        ("resolved", "delivered", 200),
        ("fired", "delivered", 200),
    ]
    headers = receiver.requests[0].headers
    assert headers["X-AgentSpy-Event"] == "fired"
    assert "X-AgentSpy-Signature-256" not in headers


def test_an_lt_rule_fires_when_traffic_stops():
    shop = ProjectFactory(name="shop")
    runs(shop, 1, minutes=30)
    with webhook_receiver() as receiver:
        AlertRuleFactory(
            project=shop,
            metric="run_count",
            comparison="lt",
            threshold=1,
            window_minutes=15,
            webhook_url=receiver.url,
        )
        [evaluation] = evaluate_rules(now=NOW)
    assert (evaluation.value, evaluation.event) == (0, "fired")
    assert receiver.requests[0].json["value"] == 0


def test_disabled_rules_are_not_evaluated():
    AlertRuleFactory(metric="run_count", comparison="lt", threshold=5, enabled=False)
    assert evaluate_rules(now=NOW) == []


def test_a_failing_receiver_is_retried_until_it_answers():
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver(500, 503, 200) as receiver:
        AlertRuleFactory(webhook_url=receiver.url)
        evaluate_rules(now=NOW)
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.http_status) == (
        "delivered",
        3,
        200,
    )
    assert [a["http_status"] for a in delivery.attempts] == [500, 503, 200]
    assert delivery.attempts[0]["error"] == "HTTP 500: receiver says no"
    assert delivery.last_error == ""
    assert len(receiver.requests) == 3
    # Every attempt carries the same delivery id, so a receiver can de-duplicate.
    assert {r.headers["X-AgentSpy-Delivery"] for r in receiver.requests} == {
        str(delivery.pk)
    }


def test_retries_stop_after_the_last_attempt_and_are_recorded(settings):
    settings.ALERT_MAX_ATTEMPTS = 3
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver(502) as receiver:
        AlertRuleFactory(webhook_url=receiver.url)
        evaluate_rules(now=NOW)
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.http_status) == (
        "failed",
        3,
        502,
    )
    assert delivery.last_error == "HTTP 502: receiver says no"
    assert len(receiver.requests) == 3
    # The rule is firing all the same: the next pass does not send again.
    evaluate_rules(now=NOW)
    assert AlertDelivery.objects.count() == 1


def test_a_client_error_is_not_retried():
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver(404) as receiver:
        AlertRuleFactory(webhook_url=receiver.url)
        evaluate_rules(now=NOW)
    assert AlertDelivery.objects.get().attempt_count == 1
    assert len(receiver.requests) == 1


def test_an_unreachable_webhook_fails_with_the_network_error():
    runs(ProjectFactory(name="shop"), 1, status="error")
    AlertRuleFactory(webhook_url="http://127.0.0.1:9/hook")
    evaluate_rules(now=NOW)
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.http_status is None
    assert delivery.attempt_count == 4
    assert "Connection refused" in delivery.last_error


def test_retries_stop_when_the_pass_runs_out_of_time(settings):
    settings.ALERT_RETRY_BACKOFF = 5
    settings.ALERT_RUN_SECONDS = 3
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver(500) as receiver:
        AlertRuleFactory(webhook_url=receiver.url)
        evaluate_rules(now=NOW)
    # The second attempt would start after the 3 s budget: not made.
    assert AlertDelivery.objects.get().attempt_count == 1
    assert len(receiver.requests) == 1


def test_deliveries_are_signed_with_the_rule_secret():
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver() as receiver:
        AlertRuleFactory(webhook_url=receiver.url, secret="s3cret")
        evaluate_rules(now=NOW)
    [request] = receiver.requests
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-AgentSpy-Signature-256"] == f"sha256={expected}"
    assert request.headers["Content-Type"] == "application/json"


def test_slack_webhooks_get_a_slack_message(monkeypatch):
    shop = ProjectFactory(name="<shop & co>")
    runs(shop, 1, status="error")
    monkeypatch.setattr(webhooks, "SLACK_HOSTS", {"127.0.0.1"})
    with webhook_receiver() as receiver:
        rule = AlertRuleFactory(
            name="Errors > half",
            project=shop,
            webhook_url=receiver.url.replace("/hook", "/services/T0/B0/xyz"),
        )
        evaluate_rules(now=NOW)
    [request] = receiver.requests
    assert set(request.json) == {"text"}
    url = traces_url(rule, NOW).replace("&", "&amp;")
    assert request.json["text"] == (
        ":rotating_light: Agent Spy alert *Errors &gt; half* fired: error_rate is "
        "1.0 (threshold > 0.5) over the last 60 min in &lt;shop &amp; co&gt;. "
        f"<{url}|View traces>"
    )


def test_slack_urls_are_recognised_by_host_and_path():
    assert webhooks.is_slack("https://hooks.slack.com/services/T/B/x")
    assert not webhooks.is_slack("https://hooks.slack.com/other")
    assert not webhooks.is_slack("https://example.com/services/T/B/x")


def test_the_payload_url_is_the_filtered_traces_page(settings):
    shop = ProjectFactory(name="shop & co")
    rule = AlertRuleFactory(project=shop, window_minutes=30)
    start = (NOW - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    end = NOW.isoformat().replace("+00:00", "Z")
    quoted = {v: v.replace(":", "%3A") for v in (start, end)}
    assert traces_url(rule, NOW) == (
        f"/traces?project=shop+%26+co&start_time_gte={quoted[start]}"
        f"&start_time_lte={quoted[end]}&has_error=true"
    )
    settings.BASE_URL = "https://spy.example.com"
    rule.metric = "run_count"
    rule.project = None
    assert traces_url(rule, NOW) == (
        f"https://spy.example.com/traces?start_time_gte={quoted[start]}"
        f"&start_time_lte={quoted[end]}"
    )


def test_the_traces_link_shows_the_failing_traces_of_the_window(client):
    shop = ProjectFactory(name="shop")
    failed = RunFactory(project=shop, status="error", start_time=ago(5), name="bad")
    RunFactory(project=shop, status="success", start_time=ago(5), name="good")
    RunFactory(project=shop, status="error", start_time=ago(50), name="too-old")
    rule = AlertRuleFactory(project=shop, window_minutes=10)
    response = client.get(traces_url(rule, NOW))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"/traces/{failed.trace_id}" in page
    assert "too-old" not in page and ">good<" not in page


def test_build_payload_of_a_resolution_keeps_when_it_fired():
    rule = AlertRuleFactory(fired_at=ago(30), firing=False)
    payload = build_payload(rule, 0.1, NOW, "resolved")
    assert payload["fired_at"] == ago(30).isoformat().replace("+00:00", "Z")
    assert payload["resolved_at"] == NOW.isoformat().replace("+00:00", "Z")


def test_a_restricted_destination_is_refused_at_send_time(settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    rule = AlertRuleFactory(webhook_url="http://127.0.0.1:9/hook")
    delivery = AlertDelivery.objects.create(
        rule=rule, event="fired", url=rule.webhook_url, payload={"x": 1}
    )
    deliver(delivery, deadline=__import__("time").monotonic() + 30)
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")


def test_evaluate_alerts_command_reports_each_notification():
    runs(ProjectFactory(name="shop"), 1, status="error")
    with webhook_receiver() as receiver:
        rule = AlertRuleFactory(webhook_url=receiver.url)
        out = StringIO()
        call_command("evaluate_alerts", stdout=out)
    assert out.getvalue().splitlines()[-2:] == [
        f"rule {rule.pk} fired: value 1.0; delivery delivered after 1 attempt(s)",
        "1 rule(s) evaluated, 1 notification(s)",
    ]


def test_rule_condition_reads_as_text():
    rule = AlertRuleFactory(
        metric="feedback_score", feedback_key="helpful", comparison="lt", threshold=0.5
    )
    assert rule.condition == "feedback_score[helpful] < 0.5 over 60 min"
    assert str(rule) == rule.name
    assert AlertRule.objects.get().breached_by(0.4)


def test_a_broken_rule_does_not_stop_the_others(caplog):
    runs(ProjectFactory(name="shop"), 1, status="error")
    AlertRuleFactory(name="broken", threshold="high")  # only possible past the API
    with webhook_receiver() as receiver:
        good = AlertRuleFactory(name="good", webhook_url=receiver.url)
        evaluations = evaluate_rules(now=NOW)
    assert [e.rule_id for e in evaluations] == [good.pk]
    assert len(receiver.requests) == 1
    assert "could not be evaluated" in caplog.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"threshold": "high"}, "threshold"),
        ({"threshold": 2}, "threshold"),
        ({"metric": "feedback_score"}, "feedback_key"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
    ],
)
def test_admin_validation_matches_the_api(fields, field):
    from django.core.exceptions import ValidationError

    rule = AlertRuleFactory.build(**fields)
    with pytest.raises(ValidationError) as info:
        rule.clean()
    assert list(info.value.message_dict) == [field]
