"""Start-up configuration: every bad value stops start-up naming its variable."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from agentspy import config

VARIABLES = (
    "HOST PORT DEBUG ENVIRONMENT SECRET_KEY ALLOWED_HOSTS DATABASE_URL "
    "DATABASE_POOL_SIZE DATABASE_ECHO API_PREFIX REQUIRE_AUTH API_KEYS CORS_ORIGINS "
    "CORS_CREDENTIALS MAX_TRACE_SIZE_MB REQUEST_TIMEOUT LOG_LEVEL LOG_FORMAT LOG_FILE "
    "RETENTION_DAYS STALE_AFTER_MINUTES"
).split()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No Agent Spy variable set and no .env file: the documented defaults."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _load(tmp_path: Path) -> config.Config:
    return config.load(tmp_path)


def test_defaults_without_any_variable(clean_env, tmp_path):
    cfg = _load(tmp_path)
    assert (cfg.host, cfg.port, cfg.debug, cfg.environment) == (
        "127.0.0.1",
        8000,
        False,
        "development",
    )
    assert cfg.secret_key == "django-insecure-agent-spy-local-development-only"
    assert cfg.allowed_hosts == ["*"]
    assert cfg.database["ENGINE"] == "django.db.backends.sqlite3"
    assert cfg.database["NAME"] == str(tmp_path / "agentspy.db")
    assert cfg.database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in cfg.database["OPTIONS"]["init_command"]
    assert (cfg.database_pool_size, cfg.database_echo) == (10, False)
    assert (cfg.api_prefix, cfg.require_auth, cfg.api_keys) == ("/api/v1", False, [])
    assert (cfg.cors_origins, cfg.cors_credentials) == ([], False)
    assert (cfg.max_trace_size_mb, cfg.request_timeout) == (25, 30)
    assert (cfg.log_level, cfg.log_format, cfg.log_file) == ("INFO", "text", "")
    assert (cfg.retention_days, cfg.stale_after_minutes) == (None, 60)


def test_every_variable_is_read(clean_env, tmp_path):
    for name, value in {
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "DEBUG": "yes",
        "ENVIRONMENT": "Production",
        "SECRET_KEY": "s3cret",
        "ALLOWED_HOSTS": "a.example,b.example",
        "DATABASE_URL": "postgres://u:p@db:5433/spy",
        "DATABASE_POOL_SIZE": "4",
        "DATABASE_ECHO": "1",
        "API_PREFIX": "tracing/v1/",
        "REQUIRE_AUTH": "true",
        "API_KEYS": "k1, k2,",
        "CORS_ORIGINS": "https://x.example",
        "CORS_CREDENTIALS": "on",
        "MAX_TRACE_SIZE_MB": "7",
        "REQUEST_TIMEOUT": "90",
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "JSON",
        "LOG_FILE": "/tmp/spy.log",
        "RETENTION_DAYS": "14",
        "STALE_AFTER_MINUTES": "5",
    }.items():
        clean_env.setenv(name, value)
    cfg = _load(tmp_path)
    assert (cfg.host, cfg.port, cfg.debug, cfg.environment) == (
        "0.0.0.0",
        9000,
        True,
        "production",
    )
    assert (cfg.secret_key, cfg.allowed_hosts) == ("s3cret", ["a.example", "b.example"])
    db = cfg.database
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"]) == (
        "django.db.backends.postgresql",
        "spy",
        "u",
        "p",
    )
    assert (db["HOST"], db["PORT"]) == ("db", 5433)
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 30}
    assert db["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=0"
    assert (cfg.database_pool_size, cfg.database_echo) == (4, True)
    assert (cfg.api_prefix, cfg.require_auth, cfg.api_keys) == (
        "/tracing/v1",
        True,
        ["k1", "k2"],
    )
    assert (cfg.cors_origins, cfg.cors_credentials) == (["https://x.example"], True)
    assert (cfg.max_trace_size_mb, cfg.request_timeout) == (7, 90)
    assert (cfg.log_level, cfg.log_format, cfg.log_file) == (
        "DEBUG",
        "json",
        "/tmp/spy.log",
    )
    assert (cfg.retention_days, cfg.stale_after_minutes) == (14, 5)


def test_a_dotenv_file_is_read_and_real_variables_win(clean_env, tmp_path):
    (tmp_path / ".env").write_text("PORT=8123\nLOG_LEVEL=ERROR\n")
    clean_env.setenv("LOG_LEVEL", "WARNING")
    cfg = _load(tmp_path)
    assert (cfg.port, cfg.log_level) == (8123, "WARNING")


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("PORT", "eighty", "invalid literal for int()"),
        ("PORT", "0", "must be at least 1"),
        ("PORT", "70000", "must be a TCP port (1-65535)"),
        ("DEBUG", "maybe", "expected true or false"),
        ("ENVIRONMENT", "moon", "expected one of development, production,"),
        ("DATABASE_URL", "mysql://h/db", "only sqlite:// and postgres://"),
        ("DATABASE_URL", "postgres://h:port/db", "Invalid value for DATABASE_URL"),
        ("DATABASE_POOL_SIZE", "-1", "must be at least 0"),
        ("DATABASE_POOL_SIZE", "many", "invalid literal for int()"),
        ("DATABASE_ECHO", "2", "expected true or false"),
        ("API_PREFIX", "/api v1", "must be a URL path such as /api/v1"),
        ("REQUIRE_AUTH", "sure", "expected true or false"),
        ("CORS_CREDENTIALS", "x", "expected true or false"),
        ("MAX_TRACE_SIZE_MB", "0", "must be at least 1"),
        ("MAX_TRACE_SIZE_MB", "1.5", "invalid literal for int()"),
        ("REQUEST_TIMEOUT", "-5", "must be at least 1"),
        ("LOG_LEVEL", "LOUD", "expected one of CRITICAL, DEBUG, ERROR, INFO, WARNING"),
        ("LOG_FORMAT", "xml", "expected one of json, text"),
        ("RETENTION_DAYS", "0", "must be a whole number of days"),
        ("RETENTION_DAYS", "a week", "must be a whole number of days"),
        ("STALE_AFTER_MINUTES", "0", "must be at least 1"),
    ],
)
def test_an_invalid_value_stops_start_up_naming_the_variable(
    clean_env, tmp_path, name, value, why
):
    clean_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as caught:
        _load(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"Invalid value for {name}=")
    assert why in message


def test_production_requires_a_secret_key(clean_env, tmp_path):
    clean_env.setenv("ENVIRONMENT", "production")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        _load(tmp_path)


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("sqlite:////data/spy.db", "django.db.backends.sqlite3", "/data/spy.db"),
        (
            "sqlite+aiosqlite:////data/spy.db",
            "django.db.backends.sqlite3",
            "/data/spy.db",
        ),
        ("postgres://u@h:5432/spy", "django.db.backends.postgresql", "spy"),
        ("postgresql://u@h:5432/spy", "django.db.backends.postgresql", "spy"),
        ("postgresql+asyncpg://u@h:5432/spy", "django.db.backends.postgresql", "spy"),
        ("postgresql+psycopg://u@h/spy", "django.db.backends.postgresql", "spy"),
    ],
)
def test_django_and_sqlalchemy_database_urls_are_accepted(url, engine, name):
    db = config.database_from_url(url, pool_size=5, echo=False)
    assert (db["ENGINE"], db["NAME"]) == (engine, name)


def test_sqlite_tests_use_a_file_next_to_the_database():
    db = config.database_from_url("sqlite:////data/spy.db", pool_size=0, echo=False)
    assert db["TEST"] == {"NAME": "/data/spy.test.db"}
    assert db["OPTIONS"]["timeout"] == 30


def test_postgres_without_a_pool_keeps_connections():
    db = config.database_from_url("postgres://u@h/spy", pool_size=0, echo=True)
    assert (db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"]) == (60, True)
    assert "pool" not in db["OPTIONS"]
    assert db["_ECHO"] is True
