"""The dataset pages: list, one dataset, comparison, and "Add to dataset"."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from datasets.models import Example
from runs.models import Feedback
from tests.factories import DatasetFactory, ExampleFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


def experiment(dataset, name, answers, scores, *, age=0):
    """An experiment with one root run per example and an "exact" score each."""
    project = ProjectFactory(
        name=name,
        reference_dataset_id=dataset.id,
        created_at=timezone.now() - timedelta(minutes=age),
    )
    for example, answer, score in zip(
        dataset.examples.all(), answers, scores, strict=True
    ):
        run = RunFactory(
            project=project, reference_example_id=example.id, outputs={"a": answer}
        )
        Feedback.objects.create(
            run_id=run.id, session_id=project.id, key="exact", score=score
        )
    return project


@pytest.fixture
def dataset():
    dataset = DatasetFactory(name="arith")
    for q, a in [("2+2", "4"), ("<b>3+3</b>", "6")]:
        ExampleFactory(dataset=dataset, inputs={"q": q}, outputs={"a": a})
    return dataset


def test_list_shows_counts_and_escapes_names(client):
    dataset = DatasetFactory(name="<script>x</script>")
    ExampleFactory(dataset=dataset)
    body = client.get("/datasets").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "<script>x" not in body
    assert f'href="/datasets/{dataset.id}"' in body


def test_empty_list_explains_how_to_start(client):
    assert "No datasets yet" in client.get("/datasets").content.decode()


def test_detail_lists_examples_searchably_and_experiments_with_scores(client, dataset):
    experiment(dataset, "exp-a", ["4", "6"], [1.0, 0.0])
    page = client.get(f"/datasets/{dataset.id}")
    body = page.content.decode()
    assert page.status_code == 200
    assert "&lt;b&gt;3+3&lt;/b&gt;" in body
    assert "exp-a" in body
    assert '<td class="num">0.50</td>' in body
    searched = client.get(f"/datasets/{dataset.id}", {"q": "2+2"}).content.decode()
    assert "2+2" in searched and "3+3" not in searched
    assert client.get(f"/datasets/{uuid.uuid4()}").status_code == 404


def test_compare_highlights_regressions_and_filters_them(client, dataset):
    base = experiment(dataset, "base", ["4", "6"], [1.0, 1.0], age=5)
    new = experiment(dataset, "new", ["4", "7"], [1.0, 0.0])
    page = client.get(f"/datasets/{dataset.id}/compare")
    assert [p.name for p in page.context["experiments"]] == ["base", "new"]
    rows = page.context["rows"]
    assert [(r.regressions, r.improvements) for r in rows] == [(0, 0), (1, 0)]
    assert rows[1].cells[1].changes == {"exact": "regression"}
    assert 'class="score regression"' in page.content.decode()
    only = client.get(
        f"/datasets/{dataset.id}/compare",
        {"experiment": [str(new.id), str(base.id)], "show": "regressions"},
    )
    assert [p.name for p in only.context["experiments"]] == ["base", "new"]
    assert [r.example.inputs for r in only.context["rows"]] == [{"q": "<b>3+3</b>"}]
    none = client.get(
        f"/datasets/{dataset.id}/compare",
        {"experiment": [str(new.id), str(base.id)], "show": "improvements"},
    )
    assert none.context["rows"] == []
    assert none.context["totals"] == {"regressions": 1, "improvements": 0}
    wrong = client.get(
        f"/datasets/{dataset.id}/compare", {"experiment": str(uuid.uuid4())}
    )
    assert wrong.status_code == 404


def test_add_to_dataset_turns_a_run_into_an_example(client, dataset):
    run = RunFactory(inputs={"q": "9+9"}, outputs={"a": "18"})
    panel = client.get(f"/traces/{run.trace_id}/runs/{run.id}").content.decode()
    assert "Add to dataset" in panel
    response = client.post(
        f"/traces/{run.trace_id}/runs/{run.id}/add-to-dataset",
        {"dataset": str(dataset.id)},
    )
    assert response.status_code == 302
    example = Example.objects.get(source_run_id=run.id)
    assert (example.inputs, example.outputs) == ({"q": "9+9"}, {"a": "18"})
    assert response["Location"] == f"/datasets/{dataset.id}?added={example.id}"
    bad = client.post(
        f"/traces/{run.trace_id}/runs/{run.id}/add-to-dataset", {"dataset": "x"}
    )
    assert bad.status_code == 404
