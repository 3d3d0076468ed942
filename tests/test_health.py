"""Health probes: liveness always, readiness only with a reachable database."""

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from django.db import OperationalError, connection

from agentspy import health

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_health_reports_version_and_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "version": "0.1.0",
        "database": {"vendor": connection.vendor, "status": "ok"},
    }


@pytest.mark.django_db
def test_health_is_also_under_the_api_prefix(client, api_prefix):
    assert client.get(f"{api_prefix}/health").json()["status"] == "healthy"


@pytest.mark.django_db
def test_ready_and_live(client):
    assert client.get("/health/ready").json() == {"status": "ready", "database": "ok"}
    assert client.get("/health/live").json() == {"status": "alive"}


class _BrokenConnection:
    vendor = "sqlite"
    pool = None

    def cursor(self):
        raise OperationalError("unable to open database file\nmore detail")


def test_ready_is_503_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr(health, "connection", _BrokenConnection())
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unable to open database file",
    }
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert client.get("/health/live").status_code == 200


def test_other_errors_in_the_probe_are_not_hidden(monkeypatch):
    class Exploding(_BrokenConnection):
        def cursor(self):
            raise RuntimeError("a bug")

    monkeypatch.setattr(health, "connection", Exploding())
    with pytest.raises(RuntimeError):
        health._database_ok()


def test_ready_is_503_fast_for_an_unreachable_database_in_a_real_process(tmp_path):
    """A server pointed at a database that is not there answers 503, not a hang."""
    if connection.vendor == "postgresql":
        url = "postgres://postgres@127.0.0.1:1/agentspy_nowhere"
    else:
        url = f"sqlite:///{tmp_path}/missing-dir/agentspy.db"
    script = (
        "import django, orjson\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/health/ready')\n"
        "print(orjson.dumps({'status': r.status_code, 'body': r.json()}).decode())\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "agentspy.settings",
        "LOG_LEVEL": "CRITICAL",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    answer = orjson.loads(done.stdout.splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "unavailable"
    expected = (
        "couldn't get a connection after 3.00 sec"
        if connection.vendor == "postgresql"
        else "unable to open database file"
    )
    assert answer["body"]["database"] == expected
