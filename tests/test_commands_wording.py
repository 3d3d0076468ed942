"""Every command parses times and names projects the same way, in plain English."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from runs.management.cli import parse_time, plural
from tests.test_commands_export import export, jsonl, seed

pytestmark = pytest.mark.django_db


def command_error(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(error.value)


def test_plural_counts_one_thing_in_the_singular():
    assert [plural(n, "trace") for n in (0, 1, 2, 1234)] == [
        "0 traces",
        "1 trace",
        "2 traces",
        "1,234 traces",
    ]


def test_one_time_parser_takes_dates_times_names_and_ages():
    today = datetime.combine(timezone.now().date(), datetime.min.time(), tzinfo=UTC)
    assert parse_time("2026-01-31", option="--x") == datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_time("2026-01-31T12:00:00Z", option="--x") == datetime(
        2026, 1, 31, 12, tzinfo=UTC
    )
    assert parse_time("yesterday", option="--x") == today - timedelta(days=1)
    assert parse_time("Today", option="--x") == today
    assert abs(
        parse_time("7d", option="--x") - (timezone.now() - timedelta(days=7))
    ) < timedelta(seconds=5)


def test_a_bad_time_names_the_option_and_the_formats_in_every_command():
    hint = (
        "'someday' is not a date or time; use YYYY-MM-DD (midnight UTC), an "
        "ISO-8601 time such as 2026-01-31T12:00:00Z, today, yesterday, or an age "
        "such as 7d or 12h (that long ago)."
    )
    assert command_error("export_runs", "--start-time-gte", "someday") == (
        f"--start-time-gte: {hint}"
    )
    assert command_error("purge_runs", "--before", "someday") == f"--before: {hint}"


def test_export_since_yesterday_keeps_only_recent_runs():
    seed(n_traces=1, children=0)
    seed(n_traces=1, children=0, when=timezone.now() - timedelta(days=3))
    out, _ = export("--start-time-gte", "yesterday")
    assert len(jsonl(out)) == 1


def test_unknown_project_reads_the_same_in_every_command():
    expected = "--project: unknown project 'nope'."
    assert command_error("export_runs", "--project", "nope") == expected
    assert command_error("purge_runs", "--older-than", "1d", "--project", "nope") == (
        expected
    )
    assert command_error("create_api_key", "k", "--project", "nope").startswith(
        expected
    )


def test_import_dry_run_says_valid_not_imported_and_counts_in_the_singular(tmp_path):
    seed("alpha", n_traces=1, children=0)
    path = tmp_path / "one.jsonl"
    out, _ = export("-o", str(path))
    out = StringIO()
    call_command("import_runs", str(path), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "imported" not in text
    assert "\r1 line read, 1 run valid\n" in text
    assert "Would import 1 run (0 new, 1 already present) from 1 line in" in text


def test_deleting_the_last_attachment_of_a_run_leaves_no_empty_folder(
    settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    name = default_storage.save("attachments/run-1/abc", ContentFile(b"x"))
    kept = default_storage.save("attachments/run-2/def", ContentFile(b"y"))
    default_storage.delete(name)
    assert sorted(p.name for p in (tmp_path / "attachments").iterdir()) == ["run-2"]
    default_storage.delete(kept)
    assert list(tmp_path.iterdir()) == []
