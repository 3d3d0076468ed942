"""``{API_PREFIX}/alerts``: rules in and out, validation, scopes, deliveries."""

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from alerts.models import AlertDelivery, AlertRule
from runs.apikeys import create_api_key
from runs.models import Project
from tests.factories import AlertRuleFactory, ProjectFactory, RunFactory
from tests.live import ROOT, database_url_of_test_db
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Checkout errors",
    "project": "checkout",
    "metric": "error_rate",
    "comparison": "gt",
    "threshold": 0.25,
    "window_minutes": 15,
    "webhook_url": "http://alerts.internal:8080/hook",
    "secret": "s3cret",
    "enabled": True,
    "feedback_key": "",
}


def post(client, prefix, body, **headers):
    return client.post(
        f"{prefix}/alerts",
        orjson.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_a_created_rule_echoes_every_field_as_sent(client, api_prefix):
    response = post(client, api_prefix, RULE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in RULE} == RULE
    assert (body["firing"], body["last_value"], body["last_evaluated_at"]) == (
        False,
        None,
        None,
    )
    rule = AlertRule.objects.get(pk=body["id"])
    assert rule.project.name == "checkout"
    assert client.get(f"{api_prefix}/alerts/{rule.pk}").json() == body
    assert client.get(f"{api_prefix}/alerts").json() == [body]


def test_thresholds_keep_their_json_number_type(client, api_prefix):
    for threshold in (5, 2.5, 0):
        body = {**RULE, "metric": "run_count", "threshold": threshold}
        echoed = post(client, api_prefix, body).json()["threshold"]
        assert echoed == threshold
        assert type(echoed) is type(threshold)


def test_a_rule_without_a_project_watches_every_project(client, api_prefix):
    body = {k: v for k, v in RULE.items() if k != "project"}
    response = post(client, api_prefix, body)
    assert response.status_code == 201
    assert response.json()["project"] is None
    assert AlertRule.objects.get().project is None


def test_a_feedback_rule_names_its_key(client, api_prefix):
    body = {**RULE, "metric": "feedback_score", "feedback_key": "helpful"}
    body["comparison"] = "lt"
    assert post(client, api_prefix, body).json()["feedback_key"] == "helpful"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"metric": "speed"}, "metric", '"speed" is not a valid choice.'),
        ({"comparison": "ge"}, "comparison", '"ge" is not a valid choice.'),
        ({"threshold": "0.5"}, "threshold", "A JSON number is required."),
        ({"threshold": True}, "threshold", "A JSON number is required."),
        (
            {"threshold": 5},
            "threshold",
            "error_rate is a fraction from 0 to 1 (0.05 is 5%).",
        ),
        (
            {"window_minutes": 0},
            "window_minutes",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"webhook_url": "ftp://example.com/x"},
            "webhook_url",
            "Only http and https webhook URLs are allowed.",
        ),
        ({"webhook_url": "not a url"}, "webhook_url", "Enter a valid URL."),
        (
            {"metric": "feedback_score"},
            "feedback_key",
            "A feedback_score rule needs the feedback key.",
        ),
        (
            {"feedback_key": "helpful"},
            "feedback_key",
            "Only a feedback_score rule takes a feedback key.",
        ),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"project": " "}, "project", "This field may not be blank."),
    ],
)
def test_invalid_rules_are_400_naming_the_field(
    client, api_prefix, change, field, message
):
    response = post(client, api_prefix, {**RULE, **change})
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert AlertRule.objects.count() == 0


def test_missing_fields_are_named(client, api_prefix):
    response = post(client, api_prefix, {"name": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {
        "metric",
        "comparison",
        "threshold",
        "window_minutes",
        "webhook_url",
    }


def test_internal_hosts_are_allowed_unless_restricted(client, api_prefix, settings):
    local = {**RULE, "webhook_url": "http://127.0.0.1:9000/hook"}
    assert post(client, api_prefix, local).status_code == 201
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    response = post(client, api_prefix, local)
    assert response.status_code == 400
    assert response.json()["webhook_url"] == [
        "127.0.0.1 resolves to 127.0.0.1, an internal address; "
        "ALERT_WEBHOOK_ALLOW_PRIVATE=false allows only public hosts."
    ]
    public = {**RULE, "webhook_url": "https://8.8.8.8/hook"}
    assert post(client, api_prefix, public).status_code == 201


def test_put_patch_and_delete(client, api_prefix):
    rule_id = post(client, api_prefix, RULE).json()["id"]
    url = f"{api_prefix}/alerts/{rule_id}"
    patched = client.patch(
        url, orjson.dumps({"threshold": 0.5}), content_type="application/json"
    )
    assert patched.status_code == 200
    assert (patched.json()["threshold"], patched.json()["name"]) == (0.5, RULE["name"])
    replaced = client.put(
        url,
        orjson.dumps({**RULE, "project": None, "metric": "run_count", "threshold": 9}),
        content_type="application/json",
    )
    assert replaced.status_code == 200
    assert (replaced.json()["project"], replaced.json()["threshold"]) == (None, 9)
    invalid = client.patch(
        url, orjson.dumps({"threshold": "x"}), content_type="application/json"
    )
    assert invalid.status_code == 400
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_deliveries_list_every_attempt_with_its_http_status(client, api_prefix):
    RunFactory(project=ProjectFactory(name="checkout"), status="error")
    with webhook_receiver(500, 200) as receiver:
        rule_id = post(
            client, api_prefix, {**RULE, "webhook_url": receiver.url}
        ).json()["id"]
        from django.core.management import call_command

        call_command("evaluate_alerts", stdout=open(os.devnull, "w"))  # noqa: SIM115
    response = client.get(f"{api_prefix}/alerts/{rule_id}/deliveries")
    assert response.status_code == 200
    [delivery] = response.json()
    assert (delivery["event"], delivery["status"], delivery["attempt_count"]) == (
        "fired",
        "delivered",
        2,
    )
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["payload"]["project"] == "checkout"
    paged = client.get(f"{api_prefix}/alerts/{rule_id}/deliveries?offset=1")
    assert paged.json() == []
    bad = client.get(f"{api_prefix}/alerts/{rule_id}/deliveries?limit=0")
    assert bad.status_code == 400
    assert bad.json() == {"limit": ["Must be from 1 to 1000."]}
    assert client.get(f"{api_prefix}/alerts/999/deliveries").status_code == 404


def test_a_scoped_key_manages_only_its_project(client, api_prefix):
    key = create_api_key(name="team", project="team-a").key
    AlertRuleFactory(project=ProjectFactory(name="team-b"))
    AlertRuleFactory(project=None)
    mine = AlertRuleFactory(project=Project.objects.get(name="team-a"))
    listed = client.get(f"{api_prefix}/alerts", HTTP_X_API_KEY=key).json()
    assert [r["id"] for r in listed] == [mine.pk]
    other = AlertRule.objects.exclude(pk=mine.pk).first()
    assert (
        client.get(f"{api_prefix}/alerts/{other.pk}", HTTP_X_API_KEY=key).status_code
        == 404
    )
    elsewhere = post(
        client, api_prefix, {**RULE, "project": "team-b"}, HTTP_X_API_KEY=key
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json() == {
        "detail": "This API key may only manage alerts of project 'team-a'."
    }
    unnamed = {k: v for k, v in RULE.items() if k != "project"}
    created = post(client, api_prefix, unnamed, HTTP_X_API_KEY=key)
    assert created.json()["project"] == "team-a"


def test_a_read_only_key_may_list_but_not_create(client, api_prefix):
    key = create_api_key(name="viewer", read_only=True).key
    assert client.get(f"{api_prefix}/alerts", HTTP_X_API_KEY=key).status_code == 200
    assert post(client, api_prefix, RULE, HTTP_X_API_KEY=key).status_code == 403


def test_keys_are_required_when_auth_is_on(client, api_prefix, settings):
    settings.REQUIRE_AUTH = True
    assert client.get(f"{api_prefix}/alerts").status_code == 401


def test_the_alerts_page_lists_rules_and_deliveries_escaped(client):
    rule = AlertRuleFactory(
        name="<script>alert(1)</script>",
        project=ProjectFactory(name="<b>shop</b>"),
        firing=True,
        last_value=0.75,
    )
    AlertDelivery.objects.create(
        rule=rule,
        event="fired",
        status="failed",
        url=rule.webhook_url,
        payload={"value": 0.75},
        attempt_count=4,
        http_status=502,
        last_error="HTTP 502: <html>bad gateway</html>",
    )
    response = client.get("/alerts")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;shop&lt;/b&gt;" in page
    assert "HTTP 502: &lt;html&gt;bad gateway&lt;/html&gt;" in page
    assert ">firing<" in page and ">failed<" in page
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_alerts_page_explains_how_to_start(client):
    page = client.get("/alerts").content.decode()
    assert "No alert rules yet." in page
    assert "Nothing sent yet" in page


def test_admin_lists_rules_and_deliveries(admin_client):
    rule = AlertRuleFactory(name="<i>r</i>", firing=True)
    AlertDelivery.objects.create(
        rule=rule, event="fired", url=rule.webhook_url, payload={}
    )
    listing = admin_client.get("/admin/alerts/alertrule/")
    assert listing.status_code == 200
    assert "&lt;i&gt;r&lt;/i&gt;" in listing.content.decode()
    assert admin_client.get(f"/admin/alerts/alertrule/{rule.pk}/change/").status_code
    assert admin_client.get("/admin/alerts/alertdelivery/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_evaluate_alerts_loop_runs_every_interval_until_sigterm(tmp_path):
    RunFactory(project=ProjectFactory(name="checkout"), status="error")
    with webhook_receiver() as receiver:
        AlertRuleFactory(webhook_url=receiver.url)
        log = open(tmp_path / "loop.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "evaluate_alerts",
                "--loop",
                "--interval",
                "2",
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url_of_test_db()},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            output = ""
            while output.count("rule(s) evaluated") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
                output = (tmp_path / "loop.log").read_text()
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
    output = (tmp_path / "loop.log").read_text()
    assert code == 0
    assert output.splitlines()[0] == "Evaluating alert rules every 2s"
    assert output.count("1 rule(s) evaluated, 1 notification(s)") == 1
    assert output.count("1 rule(s) evaluated, 0 notification(s)") >= 1
    assert output.rstrip().endswith("Alert evaluation stopped.")
    assert len(receiver.requests) == 1
