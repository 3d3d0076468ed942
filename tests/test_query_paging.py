"""Keyset paging and per-trace models are query-layer work, usable by every face."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Run
from runs.query.roots import page_cursor, root_runs, roots_after, trace_models
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def test_keyset_pages_walk_every_root_once_newest_first():
    now = timezone.now()
    roots = [RunFactory(start_time=now - timedelta(minutes=i)) for i in range(5)]
    seen = []
    queryset = Run.objects.order_by("-start_time", "-id")
    page = root_runs(queryset, limit=2)
    while True:
        seen += [row["id"] for row in page.runs]
        if not page.has_more:
            break
        page = root_runs(
            roots_after(queryset, page_cursor(page.runs[-1]), descending=True),
            limit=2,
        )
    assert seen == [str(r.id) for r in roots]


def test_a_cursor_that_is_not_one_raises_value_error():
    with pytest.raises(ValueError):
        roots_after(Run.objects.all(), "yesterday_nope", descending=True)


def test_trace_models_lists_the_models_of_descendants_sorted():
    root = RunFactory()
    RunFactory(parent=root, trace_id=root.trace_id, model_name="gpt-4o")
    RunFactory(parent=root, trace_id=root.trace_id, model_name="claude")
    RunFactory(parent=root, trace_id=root.trace_id, model_name="gpt-4o")
    other = RunFactory()
    assert trace_models([str(root.trace_id), str(other.trace_id)]) == {
        str(root.trace_id): ["claude", "gpt-4o"]
    }
    assert trace_models([]) == {}


def test_the_export_does_not_import_the_api_layer():
    code = (
        "import django, os, sys;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'agentspy.settings');"
        "django.setup(); import runs.export;"
        "print(sorted(m for m in sys.modules if m.startswith('runs.api')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_trace_models_finds_models_folded_into_the_daily_rollups_and_still_waiting():
    from runs.query import rollups

    root = RunFactory()
    RunFactory(parent=root, trace_id=root.trace_id, model_name="folded-model")
    rollups.compact()
    RunFactory(parent=root, trace_id=root.trace_id, model_name="waiting-model")
    assert rollups.model_names() == ["folded-model", "waiting-model"]
    assert trace_models([str(root.trace_id)]) == {
        str(root.trace_id): ["folded-model", "waiting-model"]
    }
