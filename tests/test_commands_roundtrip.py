"""Backup and move: export from one database, import into another, compare.

The test database is PostgreSQL or SQLite (DATABASE_URL); the other side is a
fresh SQLite file driven through ``manage.py`` in a subprocess. On the
PostgreSQL run this is exactly the documented move between the two.
"""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from runs.models import Project, Run
from tests.test_commands_export import seed

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def manage(db: Path, *commands: list[str]) -> str:
    """Run management commands in one fresh process on the SQLite file ``db``."""
    script = (
        "import sys, django; django.setup()\n"
        "from django.core.management import call_command\n"
        "for args in " + repr(list(commands)) + ": call_command(*args)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "agentspy.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def rows(path: Path) -> list[dict]:
    return sorted(
        (json.loads(line) for line in path.read_text().splitlines()),
        key=lambda r: r["id"],
    )


def test_round_trip_through_a_fresh_sqlite_database_keeps_every_run(tmp_path):
    seed("alpha", n_traces=3, children=3)
    seed("beta", n_traces=2, children=1, error="boom", end_time=None)
    here = tmp_path / "here.jsonl.zst"
    call_command("export_runs", "-o", str(here), stdout=StringIO(), stderr=StringIO())

    other = tmp_path / "other.db"
    there = tmp_path / "there.jsonl"
    out = manage(
        other,
        ["migrate", "--no-input", "-v", "0"],
        ["import_runs", str(here)],
        ["export_runs", "-o", str(there)],
    )
    assert "Imported 16 runs (16 new, 0 already present)" in out
    plain_here = tmp_path / "here.jsonl"
    call_command(
        "export_runs", "-o", str(plain_here), stdout=StringIO(), stderr=StringIO()
    )
    assert rows(there) == rows(plain_here)

    # And back: the other database's export restores this one.
    projects = dict(Project.objects.values_list("name", "id"))
    Run.objects.all().delete()
    call_command("import_runs", str(there), stdout=StringIO(), stderr=StringIO())
    again = tmp_path / "again.jsonl"
    call_command("export_runs", "-o", str(again), stdout=StringIO(), stderr=StringIO())
    assert rows(again) == rows(plain_here)
    assert dict(Project.objects.values_list("name", "id")) == projects
