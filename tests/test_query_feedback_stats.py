"""Feedback statistics per project: experiments through their runs, other
projects through the session id."""

import uuid

import pytest

from runs.models import Feedback
from runs.query.feedback_stats import feedback_stats
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_experiment_scores_without_a_session_id_count_through_their_runs():
    experiment = ProjectFactory(name="exp", reference_dataset_id=uuid.uuid4())
    plain = ProjectFactory(name="plain")
    run = RunFactory(project=experiment)
    other_run = RunFactory(project=plain)
    Feedback.objects.create(run_id=run.id, key="k", score=1.0)
    Feedback.objects.create(run_id=run.id, session_id=experiment.id, key="k", score=0)
    Feedback.objects.create(run_id=other_run.id, session_id=plain.id, key="k", score=1)
    # A plain project's feedback is found by its session id only.
    Feedback.objects.create(run_id=other_run.id, key="lost", score=1)
    stats = feedback_stats([experiment.id, plain.id])
    assert stats[experiment.id]["k"] == {
        "n": 2,
        "avg": 0.5,
        "stdev": 0.5,
        "errors": 0,
        "values": {},
    }
    assert list(stats[plain.id]) == ["k"]
    assert stats[plain.id]["k"]["n"] == 1
    assert feedback_stats([]) == {}


def test_feedback_without_a_score_or_value_counts_as_an_error():
    project = ProjectFactory(name="p")
    run = RunFactory(project=project)
    Feedback.objects.create(run_id=run.id, session_id=project.id, key="k")
    stats = feedback_stats([project.id])[project.id]["k"]
    assert (stats["n"], stats["avg"], stats["stdev"], stats["errors"]) == (
        1,
        None,
        None,
        1,
    )
