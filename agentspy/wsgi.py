import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
application = get_wsgi_application()

# The price table, loaded before the first request rather than inside it.
from runs.pricing import warm  # noqa: E402 (needs the configured Django)

warm()


def _warm_up() -> None:
    """Load at worker start what the first request would otherwise load: every
    URL module (the API, its schema tooling and DRF: seconds on a busy
    machine) and the dashboard's templates."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    for name in ("overview", "traces", "trace", "projects", "_traces_results"):
        get_template(f"dashboard/{name}.html")


_warm_up()
