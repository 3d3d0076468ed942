import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
application = get_wsgi_application()

# The price table, loaded before the first request rather than inside it.
from runs.pricing import warm  # noqa: E402 (needs the configured Django)

warm()


def _warm_up() -> None:
    """Load at worker start what the first request would otherwise load: every
    URL module (the API, its schema tooling and DRF: seconds on a busy
    machine) and the URL reverse lookups, the dashboard's templates and the
    database connection (pool)."""
    from django.conf import settings
    from django.db import DatabaseError, connection
    from django.template.loader import get_template
    from django.urls import get_resolver

    # Importing every view module, then building the reverse lookups that the
    # first {% url %} would build (a quarter of a second on a busy machine).
    pending = [get_resolver()]
    while pending:
        resolver = pending.pop()
        resolver.reverse_dict  # noqa: B018
        pending.extend(sub for _, sub in resolver.namespace_dict.values())
    # Every dashboard template and partial ({% include %} compiles on first use).
    folder = Path(settings.BASE_DIR) / "templates" / "dashboard"
    for template in sorted(folder.glob("*.html")):
        get_template(f"dashboard/{template.name}")
    try:
        connection.ensure_connection()
    except DatabaseError:
        pass  # down at start: the first request connects (and says why not)
    finally:
        connection.close()  # back to the pool; not shared with forked workers


_warm_up()
