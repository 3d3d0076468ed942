from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Run
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def running(minutes_ago):
    return RunFactory(
        status=Run.Status.RUNNING,
        start_time=timezone.now() - timedelta(minutes=minutes_ago),
        end_time=None,
    )


def test_running_run_older_than_the_stale_time_is_stale(settings):
    settings.STALE_AFTER_MINUTES = 30
    assert running(31).is_stale is True
    assert running(29).is_stale is False


def test_finished_runs_are_never_stale(settings):
    settings.STALE_AFTER_MINUTES = 1
    old = RunFactory(start_time=timezone.now() - timedelta(days=3))
    assert old.is_stale is False


def test_stale_q_selects_the_stale_runs_and_leaves_them_running(settings):
    settings.STALE_AFTER_MINUTES = 30
    stale = running(90)
    running(5)
    RunFactory(start_time=timezone.now() - timedelta(days=3))
    assert list(Run.objects.filter(Run.stale_q())) == [stale]
    stale.refresh_from_db()
    assert stale.status == Run.Status.RUNNING
