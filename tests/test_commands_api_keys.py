from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runs.apikeys import create_api_key, find_active_key
from runs.models import ApiKey

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_key_prints_the_key_alone_on_stdout():
    out, err = run("create_api_key", "ci-bot")
    key = out.strip()
    assert find_active_key(key).name == "ci-bot"
    assert "Created API key 'ci-bot' (read-write, all projects)" in err
    assert key not in err


def test_create_api_key_with_project_and_read_only():
    out, err = run(
        "create_api_key",
        "viewer",
        "--project",
        "team-a",
        "--create-project",
        "--read-only",
    )
    stored = find_active_key(out.strip())
    assert (stored.project.name, stored.read_only) == ("team-a", True)
    assert "Created project 'team-a'." in err
    assert "(read-only, project 'team-a')" in err


def test_create_api_key_refuses_an_empty_name():
    with pytest.raises(CommandError, match="non-empty name"):
        run("create_api_key", "  ")


def test_create_api_key_refuses_an_empty_project():
    with pytest.raises(CommandError, match="--project must not be empty"):
        run("create_api_key", "x", "--project", " ")


def test_list_api_keys_shows_prefix_scope_and_access_but_never_the_key():
    new = create_api_key(
        name="viewer", project="team-a", read_only=True, create_project=True
    )
    create_api_key(name="writer")
    out, _ = run("list_api_keys")
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "PREFIX",
        "PROJECT",
        "ACCESS",
        "CREATED",
        "LAST",
        "USED",
    ]
    assert lines[1].split()[:4] == ["viewer", new.key[:12] + "…", "team-a", "read-only"]
    assert lines[2].split()[:4] == ["writer", lines[2].split()[1], "*", "read-write"]
    assert new.key not in out


def test_list_api_keys_hides_revoked_keys_unless_all():
    create_api_key(name="old")
    run("revoke_api_key", "old")
    assert run("list_api_keys")[0] == "No active API keys.\n"
    out, _ = run("list_api_keys", "--all")
    assert "REVOKED" in out.splitlines()[0]
    assert out.splitlines()[1].startswith("old ")


def test_list_api_keys_with_none_at_all():
    assert run("list_api_keys", "--all")[0] == "No API keys.\n"


def test_revoke_api_key_by_prefix():
    new = create_api_key(name="ci")
    out, _ = run("revoke_api_key", new.key[:12])
    assert out == f"Revoked ci ({new.key[:12]}…)\n"
    assert find_active_key(new.key) is None


def test_revoke_api_key_dry_run_revokes_nothing():
    new = create_api_key(name="ci")
    out, _ = run("revoke_api_key", "ci", "--dry-run")
    assert out == f"Would revoke ci ({new.key[:12]}…)\n"
    assert find_active_key(new.key) is not None


def test_revoke_api_key_dry_run_of_unknown_key_fails():
    with pytest.raises(CommandError, match="No active API key"):
        run("revoke_api_key", "nope", "--dry-run")


def test_revoke_api_key_of_unknown_key_fails():
    with pytest.raises(CommandError, match="No active API key is named or prefixed"):
        run("revoke_api_key", "nope")


def _two_keys_matching_one_text() -> str:
    """A key whose name is another key's prefix: the text matches both."""
    first = create_api_key(name="ci")
    create_api_key(name=first.key[:12])
    return first.key[:12]


def test_revoke_api_key_matching_several_keys_needs_all():
    text = _two_keys_matching_one_text()
    with pytest.raises(CommandError, match=f"2 active keys match '{text}'"):
        run("revoke_api_key", text)
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 2
    run("revoke_api_key", text, "--all")
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0


def test_revoke_api_key_dry_run_refuses_what_the_real_run_refuses():
    text = _two_keys_matching_one_text()
    with pytest.raises(CommandError, match=f"2 active keys match '{text}'"):
        run("revoke_api_key", text, "--dry-run")
    out, _ = run("revoke_api_key", text, "--dry-run", "--all")
    assert out.count("Would revoke ") == 2
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 2


def test_create_api_key_refuses_a_name_an_active_key_has():
    first = create_api_key(name="ci")
    with pytest.raises(CommandError) as error:
        run("create_api_key", "ci")
    assert str(error.value) == (
        f"An active API key is already named 'ci' ({first.key[:12]}…): "
        "choose another name, or revoke that key first."
    )
    run("revoke_api_key", "ci")
    out, _ = run("create_api_key", "ci")
    assert find_active_key(out.strip()).name == "ci"


def test_the_database_refuses_two_active_keys_with_one_name():
    from django.db import IntegrityError, transaction

    create_api_key(name="ci")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(name="ci", prefix="as_x", key_hash="0" * 64)


def test_create_api_key_for_an_unknown_project_asks_and_creates_nothing_without_yes(
    monkeypatch,
):
    from runs.models import Project

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError) as error:
        run("create_api_key", "bot", "--project", "typo")
    assert str(error.value) == (
        "--project: unknown project 'typo'. Check the name, or pass "
        "--create-project to create it."
    )
    assert not Project.objects.filter(name="typo").exists()
    assert not ApiKey.objects.exists()


def test_create_api_key_creates_the_project_when_the_terminal_says_yes(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "y")
    out, err = run("create_api_key", "bot", "--project", "new-team")
    assert find_active_key(out.strip()).project.name == "new-team"
    assert "Project 'new-team' does not exist. Create it? [y/N] " in err
    assert "Created project 'new-team'." in err


def test_create_api_key_uses_an_existing_project_without_asking(monkeypatch):
    from tests.factories import ProjectFactory

    ProjectFactory(name="team-b")
    monkeypatch.setattr("builtins.input", lambda: pytest.fail("asked"))
    out, err = run("create_api_key", "bot", "--project", "team-b")
    assert find_active_key(out.strip()).project.name == "team-b"
    assert "Created project" not in err


def test_short_prefix_does_not_match_every_key():
    create_api_key(name="ci")
    with pytest.raises(CommandError):
        run("revoke_api_key", "as_")
