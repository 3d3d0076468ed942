"""The traces page's URL parameters: the filters a link, a saved view or the
queue form may carry. Anything else in a query string is dropped."""

from __future__ import annotations

from django.http import QueryDict

# Filter parameters the form may carry (RunFilter's names); paging is not one.
FILTER_PARAMS = (
    "project",
    "status",
    "run_type",
    "search",
    "since",
    "start_time_gte",
    "start_time_lte",
    "tags",
    "model",
    "has_error",
    "min_cost",
    "max_cost",
    "filter",
    "tree_filter",
    "feedback_key",
    "feedback_score_gte",
    "metadata_key",
    "metadata_value",
    "ordering",
)


def filter_params(query: QueryDict) -> QueryDict:
    """The known filters of ``query`` that have a value, in one order."""
    params = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        value = query.get(name, "").strip()
        if value:
            params[name] = value
    return params


def filter_query(text: str) -> str:
    """A query string kept to the traces page's filters (as ``filter_params``)."""
    return filter_params(QueryDict(text.lstrip("?"))).urlencode()
