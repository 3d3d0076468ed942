import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from runs import purge
from runs.management.cli import parse_age
from runs.models import Attachment, Feedback, Run
from tests.factories import FeedbackFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def days_ago(n):
    return timezone.now() - timedelta(days=n)


def trace(age_days, project="default", children=2, status="success"):
    """A root and its children; children start later than the root."""
    root = RunFactory(
        start_time=days_ago(age_days), project=ProjectFactory(name=project)
    )
    if status != "success":
        Run.objects.filter(id=root.id).update(status=status)
    kids = [
        RunFactory(parent=root, project=root.project, start_time=days_ago(0))
        for _ in range(children)
    ]
    return root, kids


def purge_cmd(*args):
    out = StringIO()
    call_command("purge_runs", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def remaining_traces():
    return set(Run.objects.values_list("trace_id", flat=True))


def test_older_than_deletes_whole_old_traces_and_keeps_new_ones():
    old, _ = trace(40)
    new, _ = trace(5)
    out = purge_cmd("--older-than", "30d", "--pause", "0")
    assert remaining_traces() == {new.trace_id}
    assert Run.objects.count() == 3
    assert "Deleted 1 trace (3 runs, 0 feedback, 0 attachments)" in out
    assert old.trace_id not in remaining_traces()


def test_children_go_with_their_trace_even_when_they_are_recent():
    root, kids = trace(40, children=3)
    purge_cmd("--older-than", "30d")
    assert not Run.objects.filter(id__in=[k.id for k in kids]).exists()


def test_feedback_and_attachment_rows_and_files_go_with_the_trace(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    root, kids = trace(40)
    FeedbackFactory(run_id=kids[0].id)  # by run id only
    FeedbackFactory(trace_id=root.trace_id)
    kept = FeedbackFactory(run_id=trace(1)[0].id)
    attachment = Attachment(run_id=kids[1].id, name="image", size=3)
    attachment.file.save("image", ContentFile(b"png"), save=True)
    path = Path(attachment.file.path)
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        out = purge_cmd("--older-than", "30d")

    assert "(3 runs, 2 feedback, 1 attachment)" in out
    assert list(Feedback.objects.all()) == [kept]
    assert Attachment.objects.count() == 0
    assert not path.exists()


def test_dry_run_reports_and_deletes_nothing():
    trace(40)
    trace(50, children=0)
    trace(5)
    out = purge_cmd("--older-than", "30d", "--dry-run")
    assert out.startswith("Would delete 2 traces (4 runs) started before ")
    assert Run.objects.count() == 7


def test_before_date_and_project_filters():
    a_old, _ = trace(40, project="a")
    b_old, _ = trace(40, project="b")
    cutoff = days_ago(30).date().isoformat()
    purge_cmd("--before", cutoff, "--project", "a")
    assert remaining_traces() == {b_old.trace_id}


def test_status_filter_uses_the_root_status():
    failed, _ = trace(40, status="error")
    ok, _ = trace(40)
    purge_cmd("--older-than", "30d", "--status", "error")
    assert remaining_traces() == {ok.trace_id}


def test_stale_status_means_still_running_after_the_stale_time(settings):
    settings.STALE_AFTER_MINUTES = 60
    stale, _ = trace(40, status="running")
    done, _ = trace(40)
    purge_cmd("--older-than", "1d", "--status", "stale")
    assert remaining_traces() == {done.trace_id}


def test_batches_report_progress_on_one_line():
    for _ in range(3):
        trace(40, children=1)
    out = purge_cmd("--older-than", "30d", "--batch-size", "1", "--pause", "0.001")
    assert "\r1/3 traces, 2 runs deleted\r2/3 traces, 4 runs deleted" in out
    assert "\r3/3 traces, 6 runs deleted\n" in out
    assert Run.objects.count() == 0


def test_purge_service_counts_batches():
    for _ in range(5):
        trace(40, children=0)
    seen = []
    done = purge.purge(
        purge.Criteria(before=days_ago(30)),
        batch_size=2,
        progress=lambda o, total: seen.append(o.traces),
    )
    assert (done.traces, done.runs, done.batches) == (5, 5, 3)
    assert seen == [2, 4, 5]


def test_space_report_names_what_it_measures():
    trace(40)
    out = purge_cmd("--older-than", "30d")
    assert "\nSpace: " in out
    if connection.vendor == "sqlite":
        assert "SQLite pages in use" in out and "until VACUUM" in out
    else:
        assert "(sum of pg_column_size)" in out and "pg_database_size" in out


def short_project():
    project = ProjectFactory(name="short")
    project.retention_days = 7
    project.save()
    return project


def test_retention_applies_each_project_period_else_the_default(settings):
    settings.RETENTION_DAYS = 30
    short_project()
    trace(10, project="short")
    s_new, _ = trace(3, project="short")
    trace(40)
    d_new, _ = trace(10)
    out = purge_cmd("--retention")
    assert remaining_traces() == {s_new.trace_id, d_new.trace_id}
    assert "in 'short'" in out and "in 'default'" in out


def test_retention_keeps_projects_without_a_period_when_no_default(settings):
    settings.RETENTION_DAYS = None
    short_project()
    trace(10, project="short")
    forever, _ = trace(400)
    purge_cmd("--retention")
    assert remaining_traces() == {forever.trace_id}


def test_retention_limited_to_a_project(settings):
    settings.RETENTION_DAYS = 30
    a_old, _ = trace(40, project="a")
    trace(40, project="b")
    purge_cmd("--retention", "--project", "b")
    assert remaining_traces() == {a_old.trace_id}


def test_retention_without_any_period_keeps_everything(settings):
    settings.RETENTION_DAYS = None
    trace(4000)
    out = purge_cmd("--retention")
    assert out.startswith("No project has a retention period")
    assert Run.objects.count() == 3


def test_retention_dry_run_sums_every_project(settings):
    settings.RETENTION_DAYS = 30
    trace(40, project="a")
    trace(40, project="b", children=0)
    out = purge_cmd("--retention", "--dry-run")
    assert out.splitlines()[-1] == "Would delete 2 traces (4 runs) in all."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "3x"], "--older-than: '3x' is not an age; use a number"),
        (
            ["--before", "soon"],
            "--before: 'soon' is not a date or time; use YYYY-MM-DD",
        ),
        (
            ["--older-than", "1d", "--project", "nope"],
            "--project: unknown project 'nope'.",
        ),
        ([], "Give exactly one of"),
        (["--older-than", "1d", "--retention"], "Give exactly one of"),
        (["--older-than", "1d", "--batch-size", "0"], "--batch-size must be"),
        (["--older-than", "1d", "--pause", "-1"], "--pause must not be negative"),
    ],
)
def test_bad_input_is_a_clear_command_error(args, message):
    trace(40)
    with pytest.raises(CommandError, match=message):
        purge_cmd(*args)
    assert Run.objects.count() == 3


def test_bad_duration_exits_non_zero_from_the_shell(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [sys.executable, "manage.py", "purge_runs", "--older-than", "3x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "CommandError: --older-than: '3x' is not an age" in done.stderr


def test_parse_age_units():
    assert parse_age("12h", option="--x") == timedelta(hours=12)
    assert parse_age("2W", option="--x") == timedelta(weeks=2)
    assert parse_age("90m", option="--x") == timedelta(minutes=90)
    assert parse_age("45s", option="--x") == timedelta(seconds=45)
