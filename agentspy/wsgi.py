import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentspy.settings")
application = get_wsgi_application()

# The price table, loaded before the first request rather than inside it.
from runs.pricing import warm  # noqa: E402 (needs the configured Django)

warm()
