"""Django settings for Agent Spy; every knob comes from the environment.

See config.py for the variables and their defaults.
"""

from pathlib import Path

from django.utils.csp import CSP

from agentspy import config as _config

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = _config.load(BASE_DIR)

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
ENVIRONMENT = CONFIG.environment

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "runs",
    "datasets",
    "dashboard",
    "mcpserver",
    "alerts",
    "review",
]

MIDDLEWARE = [
    # Outermost, so the logged duration covers every other middleware.
    "agentspy.observability.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "agentspy.static.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "agentspy.guards.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "agentspy.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "agentspy.wsgi.application"
ASGI_APPLICATION = "agentspy.asgi.application"

_db = dict(CONFIG.database)
_db.pop("_ECHO", None)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "agentspy.storage.MediaStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = CONFIG.media_root

# --- Agent Spy -------------------------------------------------------------
API_PREFIX = CONFIG.api_prefix
REQUIRE_AUTH = CONFIG.require_auth
API_KEYS = CONFIG.api_keys
MAX_TRACE_SIZE_BYTES = CONFIG.max_trace_size_mb * 1024 * 1024
# A decoded (zstd/gzip) body may be larger than the wire body, but not unboundedly.
MAX_DECODED_SIZE_BYTES = MAX_TRACE_SIZE_BYTES * 4
MAX_JSON_DEPTH = 200
REQUEST_TIMEOUT = CONFIG.request_timeout
RETENTION_DAYS = CONFIG.retention_days
STALE_AFTER_MINUTES = CONFIG.stale_after_minutes
# Price LLM runs at ingest (off: only costs the clients send are stored).
PRICE_RUNS = CONFIG.price_runs
# How long an attachment's signed download link (its presigned_url) works.
ATTACHMENT_URL_MAX_AGE = CONFIG.attachment_url_max_age
# Behind a reverse proxy, links the server returns (run URLs, share links,
# attachment URLs) use the proxy's scheme, host and port.
if CONFIG.trust_x_forwarded:
    USE_X_FORWARDED_HOST = True
    USE_X_FORWARDED_PORT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# OTLP/gRPC receiver (manage.py serve_otlp_grpc)
OTLP_GRPC_HOST = CONFIG.otlp_grpc_host
OTLP_GRPC_PORT = CONFIG.otlp_grpc_port
OTLP_GRPC_WORKERS = CONFIG.otlp_grpc_workers
OTLP_GRPC_THREADS = CONFIG.otlp_grpc_threads
# Alerts (manage.py evaluate_alerts)
BASE_URL = CONFIG.base_url  # makes links in notifications absolute
ALERT_WEBHOOK_ALLOW_PRIVATE = CONFIG.alert_webhook_allow_private
ALERT_WEBHOOK_TIMEOUT = 10  # seconds per attempt
ALERT_MAX_ATTEMPTS = 4
ALERT_RETRY_BACKOFF = 2.0  # seconds before the 2nd attempt, doubling after
# One evaluate_alerts pass, retries included, ends within this many seconds.
ALERT_RUN_SECONDS = 100
# Ingestion reads the stream itself with its own cap; Django's guard would
# answer 400 before the view can say 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_TRACE_SIZE_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100_000

CORS_ALLOWED_ORIGINS = [o for o in CONFIG.cors_origins if o != "*"]
CORS_ALLOW_ALL_ORIGINS = "*" in CONFIG.cors_origins
CORS_ALLOW_CREDENTIALS = CONFIG.cors_credentials

REST_FRAMEWORK = {
    # A key first (SDKs, scripts); else the dashboard's login, so a signed-in
    # person can open the read routes in a browser (CSRF-checked for writes).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "runs.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["runs.api.auth.ApiKeyRequired"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "runs.api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["runs.api.parsers.ORJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "runs.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Agent Spy API",
    "DESCRIPTION": "LangSmith-compatible tracing API and dashboard API of Agent Spy.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags by resource (sessions, runs, feedback, dashboard, ...): the first
    # path segment after the API prefix, not "api" and "v1".
    "SCHEMA_PATH_PREFIX": API_PREFIX.rstrip("/"),
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "runs.api.examples.add_examples",
        "runs.api.openapi.postprocess",
    ],
    # Swagger UI and ReDoc from our own static files: many installs reach no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # ReDoc's bundle from agentspy.apidocs: the sidecar's, minus its CDN logo.
    "REDOC_DIST": "/redoc-dist",
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Run content is attacker text: no inline script, no eval, nothing from other
# origins (the dashboard ships its CSS/JS/htmx itself; images are same-origin
# attachments or data: URLs of raster images).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = False  # TLS ends at the reverse proxy
    # The proxy redirects http to https; here a redirect would break SDK POSTs
    # and plain-http health probes from the load balancer.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "agentspy.logs.JsonFormatter"},
    },
    "handlers": {
        "main": {
            "class": "logging.FileHandler"
            if CONFIG.log_file
            else "logging.StreamHandler",
            "formatter": CONFIG.log_format,
            **({"filename": CONFIG.log_file} if CONFIG.log_file else {}),
        },
    },
    "root": {"handlers": ["main"], "level": CONFIG.log_level},
    "loggers": {
        "django.db.backends": {
            "level": "DEBUG" if CONFIG.database_echo else "WARNING",
        },
        "django.request": {"level": "ERROR"},
        # agentspy.requests logs every request once; runserver's line repeats it.
        "django.server": {"level": "WARNING"},
    },
}
