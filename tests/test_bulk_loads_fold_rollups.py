"""Bulk loads leave the statistics folded, so no dashboard request pays for them."""

from io import StringIO

import pytest
from django.core.management import call_command

from runs.models import Run, RunRollup
from runs.query import rollups
from tests.test_commands_export import export

pytestmark = pytest.mark.django_db


def test_seed_runs_leaves_no_rollup_delta_to_fold():
    call_command("seed_runs", runs=300, days=1, stdout=StringIO())
    assert Run.objects.count() >= 300
    assert rollups.pending_deltas() == 0
    assert RunRollup.objects.filter(id__gt=0).count() == 0


def test_a_big_import_folds_the_rollups_it_made(tmp_path, monkeypatch):
    call_command("seed_runs", runs=200, days=1, stdout=StringIO())
    path = tmp_path / "all.jsonl"
    export("-o", str(path))
    Run.objects.all().delete()
    rollups.compact()
    monkeypatch.setattr(rollups, "COMPACT_ABOVE", 10)
    call_command("import_runs", str(path), stdout=StringIO())
    assert Run.objects.count() >= 200
    assert rollups.pending_deltas() == 0
