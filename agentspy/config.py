"""Reads and validates the environment once, so a bad value stops start-up early.

Every variable the server understands is declared here with its default; the
README's configuration table mirrors this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
LOG_FORMATS = {"json", "text"}
ENVIRONMENTS = {"development", "production", "test", "staging"}

# SQLAlchemy spellings used by the original FastAPI agent-spy.
_SQLALCHEMY_DRIVER = re.compile(r"^(sqlite|postgresql|postgres)\+[a-z0-9_]+://")


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    debug: bool
    environment: str
    secret_key: str
    allowed_hosts: list[str]
    database: dict[str, Any]
    database_pool_size: int
    database_echo: bool
    api_prefix: str
    require_auth: bool
    api_keys: list[str]
    cors_origins: list[str]
    cors_credentials: bool
    max_trace_size_mb: int
    request_timeout: int
    log_level: str
    log_format: str
    log_file: str
    retention_days: int | None
    stale_after_minutes: int
    # OTLP/gRPC receiver (manage.py serve_otlp_grpc)
    otlp_grpc_host: str
    otlp_grpc_port: int
    otlp_grpc_workers: int
    otlp_grpc_threads: int
    # Alerts (manage.py evaluate_alerts)
    base_url: str
    alert_webhook_allow_private: bool
    media_root: Path
    price_runs: bool = True
    trust_x_forwarded: bool = False
    attachment_url_max_age: int = 3600


def _fail(name: str, value: object, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Invalid value for {name}={value!r}: {why}")


def _get(env: environ.Env, name: str, cast: Any, default: Any) -> Any:
    try:
        return env(name, cast=cast, default=default)
    except (ValueError, TypeError) as exc:
        raise _fail(name, env.str(name, default=""), str(exc)) from exc


def _bool(env: environ.Env, name: str, default: bool) -> bool:
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on", "y", "t"}:
        return True
    if raw in {"0", "false", "no", "off", "n", "f"}:
        return False
    raise _fail(name, raw, "expected true or false")


def _positive_int(env: environ.Env, name: str, default: int, minimum: int = 1) -> int:
    value = _get(env, name, int, default)
    if value < minimum:
        raise _fail(name, value, f"must be at least {minimum}")
    return value


def _choice(env: environ.Env, name: str, default: str, choices: set[str]) -> str:
    value = env.str(name, default=default).strip()
    normalised = value.upper() if choices is LOG_LEVELS else value.lower()
    if normalised not in choices:
        raise _fail(name, value, f"expected one of {', '.join(sorted(choices))}")
    return normalised


def database_from_url(url: str, *, pool_size: int, echo: bool) -> dict[str, Any]:
    """Turn DATABASE_URL (Django or SQLAlchemy spelling) into a DATABASES entry."""
    url = _SQLALCHEMY_DRIVER.sub(lambda m: m.group(1) + "://", url.strip())
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    if not url.startswith(("sqlite:", "postgres://")):
        raise _fail("DATABASE_URL", url, "only sqlite:// and postgres:// are supported")
    try:
        db = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises bare exceptions on odd URLs
        raise _fail("DATABASE_URL", url, str(exc)) from exc
    options: dict[str, Any] = dict(db.get("OPTIONS", {}))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        options.update(
            {
                # Several workers write at once: wait for the lock instead of
                # failing, and take it at BEGIN so a read-modify-write is atomic.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            }
        )
    else:
        db["ENGINE"] = "django.db.backends.postgresql"
        # Parallel workers cost ~20 ms to start on these 2-core machines, more
        # than the short LIMIT queries of a page take; requests run side by
        # side anyway. A DATABASE_URL ?options=... replaces this.
        options.setdefault("options", "-c max_parallel_workers_per_gather=0")
        if pool_size > 0:
            options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 30}
        else:
            db["CONN_MAX_AGE"] = 60
            db["CONN_HEALTH_CHECKS"] = True
    db["OPTIONS"] = options
    # Tests use a file even on SQLite, so a real server process can share it.
    db["TEST"] = {
        "NAME": str(Path(db["NAME"]).with_suffix(".test.db"))
        if db["ENGINE"] == "django.db.backends.sqlite3"
        and db["NAME"] not in ("", ":memory:")
        else None
    }
    db["_ECHO"] = echo
    return db


def load(base_dir: Path) -> Config:
    env = environ.Env()
    env_file = base_dir / ".env"
    if env_file.exists():
        env.read_env(env_file)

    debug = _bool(env, "DEBUG", False)
    environment = _choice(env, "ENVIRONMENT", "development", ENVIRONMENTS)
    pool_size = _positive_int(env, "DATABASE_POOL_SIZE", 10, minimum=0)
    echo = _bool(env, "DATABASE_ECHO", False)
    prefix = "/" + env.str("API_PREFIX", default="/api/v1").strip().strip("/")
    if not re.fullmatch(r"/[A-Za-z0-9_\-/.]+", prefix):
        raise _fail("API_PREFIX", prefix, "must be a URL path such as /api/v1")
    port = _positive_int(env, "PORT", 8000)
    if port > 65535:
        raise _fail("PORT", port, "must be a TCP port (1-65535)")
    secret = env.str("SECRET_KEY", default="")
    if not secret:
        if environment == "production":
            raise _fail("SECRET_KEY", "", "must be set when ENVIRONMENT=production")
        secret = "django-insecure-agent-spy-local-development-only"
    retention = env.str("RETENTION_DAYS", default="").strip()
    retention_days = None
    if retention:
        if not retention.isdigit() or int(retention) < 1:
            raise _fail("RETENTION_DAYS", retention, "must be a whole number of days")
        retention_days = int(retention)
    require_auth = _bool(env, "REQUIRE_AUTH", False)
    host = env.str("HOST", default="127.0.0.1")
    grpc_port = _positive_int(env, "OTLP_GRPC_PORT", 4317)
    if grpc_port > 65535:
        raise _fail("OTLP_GRPC_PORT", grpc_port, "must be a TCP port (1-65535)")
    base_url = env.str("BASE_URL", default="").strip().rstrip("/")
    if base_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url):
        raise _fail(
            "BASE_URL",
            base_url,
            "must be an http(s) URL such as https://agentspy.example.com",
        )
    api_keys = [k.strip() for k in env.list("API_KEYS", default=[]) if k.strip()]

    return Config(
        host=host,
        port=port,
        debug=debug,
        environment=environment,
        secret_key=secret,
        allowed_hosts=env.list("ALLOWED_HOSTS", default=["*"]),
        database=database_from_url(
            env.str("DATABASE_URL", default=f"sqlite:///{Path.cwd() / 'agentspy.db'}"),
            pool_size=pool_size,
            echo=echo,
        ),
        database_pool_size=pool_size,
        database_echo=echo,
        api_prefix=prefix,
        require_auth=require_auth,
        api_keys=api_keys,
        cors_origins=env.list("CORS_ORIGINS", default=[]),
        cors_credentials=_bool(env, "CORS_CREDENTIALS", False),
        max_trace_size_mb=_positive_int(env, "MAX_TRACE_SIZE_MB", 25),
        request_timeout=_positive_int(env, "REQUEST_TIMEOUT", 30),
        log_level=_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
        log_format=_choice(env, "LOG_FORMAT", "text", LOG_FORMATS),
        log_file=env.str("LOG_FILE", default=""),
        retention_days=retention_days,
        stale_after_minutes=_positive_int(env, "STALE_AFTER_MINUTES", 60),
        price_runs=_bool(env, "PRICE_RUNS", True),
        media_root=Path(env.str("MEDIA_ROOT", default="agentspy-media")).absolute(),
        trust_x_forwarded=_bool(env, "TRUST_X_FORWARDED", False),
        attachment_url_max_age=_positive_int(env, "ATTACHMENT_URL_MAX_AGE", 3600),
        otlp_grpc_host=env.str("OTLP_GRPC_HOST", default="").strip() or host,
        otlp_grpc_port=grpc_port,
        otlp_grpc_workers=_positive_int(env, "OTLP_GRPC_WORKERS", 2),
        otlp_grpc_threads=_positive_int(env, "OTLP_GRPC_THREADS", 8),
        base_url=base_url,
        alert_webhook_allow_private=_bool(env, "ALERT_WEBHOOK_ALLOW_PRIVATE", True),
    )
