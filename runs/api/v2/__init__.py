"""LangSmith's ``/api/v2`` read API.

What langsmith 0.15's ``client.runs``, ``traces``, ``sessions`` and ``public``
resources call.
"""
