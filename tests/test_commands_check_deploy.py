"""The documented production settings: `check --deploy`, static files, pooling."""

import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from agentspy.config import database_from_url
from tests.live import ServerProcess, database_url_of_test_db

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    """The minimal production settings list of the README."""
    return {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "agentspy.example.com,127.0.0.1",
        "DEBUG": "false",
        "REQUIRE_AUTH": "true",
        **extra,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.django_db
def test_check_deploy_passes_with_the_production_settings(tmp_path):
    # A SQLite test database is locked by the test's transaction: use a file.
    url = (
        database_url_of_test_db()
        if connection.vendor == "postgresql"
        else f"sqlite:///{tmp_path / 'deploy.db'}"
    )
    env = production_env(DATABASE_URL=url)
    done = manage("check", "--deploy", env=env)
    assert done.returncode == 0, done.stderr
    assert "security." not in done.stdout + done.stderr


def test_production_without_a_secret_key_refuses_to_start():
    env = production_env(SECRET_KEY="")
    done = manage("check", env=env)
    assert done.returncode == 1
    assert "SECRET_KEY" in done.stderr
    assert "must be set when ENVIRONMENT=production" in done.stderr


def test_pool_size_sets_the_psycopg_pool_and_zero_turns_it_off():
    url = "postgres://agentspy@db.example.com:5432/agentspy"
    pooled = database_from_url(url, pool_size=7, echo=False)
    assert pooled["OPTIONS"]["pool"]["max_size"] == 7
    plain = database_from_url(url, pool_size=0, echo=False)
    assert "pool" not in plain["OPTIONS"]
    assert plain["CONN_MAX_AGE"] == 60


@pytest.mark.django_db
def test_a_postgresql_process_opens_a_pool_of_database_pool_size():
    if connection.vendor != "postgresql":
        pytest.skip("connection pooling is PostgreSQL only")
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "connection.ensure_connection()\n"
        "print(connection.pool.max_size)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "DATABASE_POOL_SIZE": "3",
        "DJANGO_SETTINGS_MODULE": "agentspy.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == b"3"


@pytest.mark.e2e
def test_production_server_serves_static_files_itself(transactional_db):
    # Production start-up (whitenoise indexes every static file) is slow on a
    # busy machine: allow more than the default 30 s.
    server = ServerProcess(env=production_env()).start(timeout=120)
    try:
        url = f"{server.url}/static/admin/css/base.css"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/css")
            assert b"body" in response.read()
    finally:
        server.stop()
