"""The one query layer over the run store.

Filters are declared once (``filters.RunFilter``) and used by the JSON API, the
dashboard pages, the admin, the export API and the management commands.
Selectors for the shapes that a queryset alone cannot give live next to it:
``roots`` (one row per trace with per-trace aggregates), ``trees`` (the
hierarchy of a trace), ``stats`` (the summary) and ``search`` (full text).
"""
