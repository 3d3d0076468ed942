"""Django admin for the trace store.

Run content is attacker-controlled text: every value shown here goes through
``format_html``/auto-escaping, and JSON is shown read-only in ``<pre>`` blocks.
Changelists never count a million rows: counts stop at ``CappedPaginator.CAP``.
"""

from django.contrib import admin

admin.site.site_header = "Agent Spy administration"
admin.site.site_title = "Agent Spy"
admin.site.index_title = "Traces, projects and keys"
admin.site.site_url = "/"

# Each module registers its model's admin when imported.
from runs.admin import (  # noqa: E402, F401
    apikeys,
    attachments,
    common,
    feedback,
    prices,
    projects,
    run_filters,
    runs,
)
