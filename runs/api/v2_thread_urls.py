"""Routes of LangSmith's v2 threads API, at the host root (``/api/v2/threads``).

Thread ids may hold any character, "/" included (the SDK sends it encoded as
%2F, which the server decodes), so the id is matched up to the last segment.
"""

from django.urls import path, re_path

from runs.api import v2_thread_stats, v2_threads

urlpatterns = [
    path(
        "api/v2/threads/query",
        v2_threads.ThreadsQueryView.as_view(),
        name="v2-threads-query",
    ),
    path(
        "api/v2/threads/stats",
        v2_thread_stats.ThreadsAggregateStatsView.as_view(),
        name="v2-threads-stats",
    ),
    re_path(
        r"^api/v2/threads/(?P<thread_id>.+)/traces$",
        v2_threads.ThreadTracesView.as_view(),
        name="v2-thread-traces",
    ),
    re_path(
        r"^api/v2/threads/(?P<thread_id>.+)/stats$",
        v2_threads.ThreadStatsView.as_view(),
        name="v2-thread-stats",
    ),
]
