"""evaluate(), aevaluate(), evaluating an existing experiment and comparing two,
through the real langsmith SDK against a live server."""

import asyncio
import logging
import re
import uuid

import pytest
from langsmith import Client, aevaluate, evaluate
from langsmith.evaluation import evaluate_comparative, evaluate_existing

from runs.models import Feedback, Project, Run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*deprecated"),
]

QUESTIONS = {"2+2": "4", "3+3": "6", "5+5": "10", "7+1": "8"}


@pytest.fixture
def client(live_url, api_prefix) -> Client:
    return Client(api_url=f"{live_url}{api_prefix}", api_key="any-key")


@pytest.fixture
def sdk_log(caplog, live_server_process):
    """No SDK warning logged, and no request the server refused (a retry or a
    fallback would show as one)."""
    log = live_server_process.log_path
    start = log.stat().st_size
    caplog.set_level(logging.WARNING, logger="langsmith")
    yield caplog
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("langsmith")]
    assert logged == []
    with log.open("rb") as handle:
        handle.seek(start)
        lines = handle.read().decode(errors="replace").splitlines()
    refused = [
        line
        for line in lines
        if (found := re.search(r"agentspy\.requests \S+ \S+ (\d{3}) ", line))
        and int(found.group(1)) >= 400
    ]
    assert refused == []


@pytest.fixture
def dataset(client):
    dataset = client.create_dataset("arith")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"inputs": {"q": q}, "outputs": {"a": a}} for q, a in QUESTIONS.items()
        ],
    )
    return dataset


def good(inputs: dict) -> dict:
    return {"a": QUESTIONS[inputs["q"]]}


def sloppy(inputs: dict) -> dict:
    # Wrong on one question: a regression against good().
    return {"a": "9" if inputs["q"] == "5+5" else QUESTIONS[inputs["q"]]}


def exact(outputs: dict, reference_outputs: dict) -> dict:
    return {"key": "exact", "score": float(outputs["a"] == reference_outputs["a"])}


def length(outputs: dict) -> dict:
    return {"key": "length", "score": len(outputs["a"])}


def accuracy(outputs: list[dict], reference_outputs: list[dict]) -> dict:
    right = sum(
        o["a"] == r["a"] for o, r in zip(outputs, reference_outputs, strict=True)
    )
    return {"key": "accuracy", "score": right / len(outputs)}


def test_evaluate_records_runs_scores_and_summary(client, dataset, sdk_log):
    results = evaluate(
        sloppy,
        data="arith",
        evaluators=[exact, length],
        summary_evaluators=[accuracy],
        experiment_prefix="sloppy",
        num_repetitions=2,
        max_concurrency=4,
        client=client,
    )
    results.wait()
    client.flush()
    project = Project.objects.get(name=results.experiment_name)
    assert project.reference_dataset_id == dataset.id
    assert project.metadata["num_repetitions"] == 2
    assert project.metadata["dataset_splits"] == ["base"]
    roots = Run.objects.filter(project=project, parent=None)
    assert roots.count() == 8
    examples = {e.id: e for e in client.list_examples(dataset_id=dataset.id)}
    assert {r.reference_example_id for r in roots} == set(examples)

    read = client.read_project(project_id=project.id, include_stats=True)
    assert read.reference_dataset_id == dataset.id
    assert read.run_count == Run.objects.filter(project=project).count()
    assert read.feedback_stats["exact"]["n"] == 8
    assert read.feedback_stats["exact"]["avg"] == 0.75
    assert read.feedback_stats["length"]["avg"] == 1.0
    assert read.session_feedback_stats == {
        "accuracy": {"n": 1, "avg": 0.75, "stdev": 0.0, "errors": 0, "values": {}}
    }
    listed = list(client.list_projects(reference_dataset_id=dataset.id))
    assert [p.id for p in listed] == [project.id]
    assert (
        list(client.list_projects(reference_dataset_name="arith"))[0].id == project.id
    )

    experiment = client.get_experiment_results(project_id=project.id)
    rows = list(experiment["examples_with_runs"])
    assert sorted(r.id for r in rows) == sorted(examples)
    for row in rows:
        assert len(row.runs) == 2
        wrong = row.inputs["q"] == "5+5"
        assert [r.outputs["a"] for r in row.runs] == (
            ["9", "9"] if wrong else [QUESTIONS[row.inputs["q"]]] * 2
        )
        assert {r.reference_example_id for r in row.runs} == {row.id}
    assert experiment["feedback_stats"]["accuracy"]["avg"] == 0.75
    assert experiment["run_stats"]["run_count"] == read.run_count

    scores = sorted(
        (r["evaluation_results"]["results"][0].score for r in results), key=float
    )
    assert scores == [0.0, 0.0] + [1.0] * 6


def test_aevaluate_and_evaluating_an_existing_experiment(client, dataset, sdk_log):
    async def target(inputs: dict) -> dict:
        await asyncio.sleep(0)
        return good(inputs)

    async def run() -> str:
        results = await aevaluate(
            target,
            data="arith",
            evaluators=[exact],
            summary_evaluators=[accuracy],
            max_concurrency=2,
            client=client,
        )
        await results.wait()
        client.flush()
        return results.experiment_name

    name = asyncio.run(run())
    project = Project.objects.get(name=name)
    assert Run.objects.filter(project=project, parent=None).count() == 4
    stats = client.read_project(project_id=project.id, include_stats=True)
    assert stats.feedback_stats["exact"]["avg"] == 1.0
    assert stats.session_feedback_stats["accuracy"]["avg"] == 1.0

    # A dataset change after the experiment: as_of keeps the old examples.
    client.create_example(
        inputs={"q": "9+9"}, outputs={"a": "18"}, dataset_id=dataset.id
    )
    version = client.read_project(project_id=project.id).metadata["dataset_version"]
    assert len(list(client.list_examples(dataset_id=dataset.id))) == 5
    assert len(list(client.list_examples(dataset_id=dataset.id, as_of=version))) == 4
    later = evaluate_existing(name, evaluators=[length], client=client)
    later.wait()
    client.flush()
    keys = sorted(
        Feedback.objects.filter(
            session_id=project.id, run_id__isnull=False
        ).values_list("key", flat=True)
    )
    assert keys == ["exact"] * 4 + ["length"] * 4
    again = client.read_project(project_id=project.id, include_stats=True)
    assert again.feedback_stats["length"] == {
        "n": 4,
        "avg": 1.25,
        "stdev": pytest.approx(0.4330127),
        "errors": 0,
        "values": {},
    }


def test_comparing_two_experiments(client, dataset, sdk_log):
    first = evaluate(good, data="arith", evaluators=[exact], client=client)
    second = evaluate(sloppy, data="arith", evaluators=[exact], client=client)
    first.wait()
    second.wait()
    client.flush()

    def prefer_right(runs: list, example) -> dict:
        scores = {r.id: float(r.outputs["a"] == example.outputs["a"]) for r in runs}
        return {"key": "prefer_right", "scores": scores}

    compared = evaluate_comparative(
        [first.experiment_name, second.experiment_name],
        evaluators=[prefer_right],
        client=client,
    )
    client.flush()
    comparison_id = compared.comparative_experiment.id
    feedback = list(client.list_feedback(comparative_experiment_id=comparison_id))
    assert len(feedback) == 8
    assert {f.key for f in feedback} == {"prefer_right"}
    groups = {f.feedback_group_id for f in feedback}
    assert len(groups) == 4 and None not in groups
    stored = Feedback.objects.filter(comparative_experiment_id=comparison_id)
    assert sorted(stored.values_list("score", flat=True)) == [0.0] + [1.0] * 7
    assert compared.comparative_experiment.reference_dataset_id == dataset.id
    assert isinstance(comparison_id, uuid.UUID)
