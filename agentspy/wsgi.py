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
    machine), the dashboard's templates and the database connection (pool)."""
    from django.db import DatabaseError, connection
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    for name in ("overview", "traces", "trace", "projects", "_traces_results"):
        get_template(f"dashboard/{name}.html")
    try:
        connection.ensure_connection()
    except DatabaseError:
        pass  # down at start: the first request connects (and says why not)
    finally:
        connection.close()  # back to the pool; not shared with forked workers


_warm_up()
