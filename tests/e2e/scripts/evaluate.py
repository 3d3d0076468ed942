"""A dataset, evaluate() with row and summary evaluators and two repetitions,
and the results read back, with whichever langsmith line runs it.

Uses only what every line from 0.1.147 on offers; prints JSON on the last
line, including every warning the SDK logged (a retry is one).
"""

import json
import logging
import sys
import warnings

from langsmith import Client
from langsmith.evaluation import evaluate

logged = []


class Collect(logging.Handler):
    def emit(self, record):
        logged.append(record.getMessage())


logging.getLogger("langsmith").addHandler(Collect(level=logging.WARNING))
warnings.simplefilter("ignore", DeprecationWarning)

client = Client()
name = sys.argv[1] if len(sys.argv) > 1 else "old-sdk-arith"
QUESTIONS = {"2+2": "4", "3+3": "6", "5+5": "10"}
dataset = client.create_dataset(name, description="old line")
client.create_examples(
    inputs=[{"q": q} for q in QUESTIONS],
    outputs=[{"a": a} for a in QUESTIONS.values()],
    dataset_id=dataset.id,
)


def target(inputs):
    return {"a": "9" if inputs["q"] == "5+5" else QUESTIONS[inputs["q"]]}


def exact(run, example):
    return {"key": "exact", "score": float(run.outputs["a"] == example.outputs["a"])}


def accuracy(runs, examples):
    right = sum(
        r.outputs["a"] == e.outputs["a"] for r, e in zip(runs, examples, strict=True)
    )
    return {"key": "accuracy", "score": right / len(runs)}


results = evaluate(
    target,
    data=name,
    evaluators=[exact],
    summary_evaluators=[accuracy],
    num_repetitions=2,
    max_concurrency=2,
    client=client,
)
results.wait()
if hasattr(client, "flush"):
    client.flush()
elif getattr(client, "tracing_queue", None) is not None:
    client.tracing_queue.join()  # lines before flush() existed
project = client.read_project(project_name=results.experiment_name, include_stats=True)
examples = list(client.list_examples(dataset_id=dataset.id))
summary = getattr(project, "session_feedback_stats", None)
if summary is None:  # lines whose schema has no session_feedback_stats
    read = client.request_with_retries("GET", f"/sessions/{project.id}")
    summary = read.json()["session_feedback_stats"]
print(
    json.dumps(
        {
            "experiment": results.experiment_name,
            "examples": sorted(e.inputs["q"] for e in examples),
            "reference_dataset_id": str(project.reference_dataset_id),
            "dataset_id": str(dataset.id),
            "exact": project.feedback_stats["exact"]["avg"],
            "exact_n": project.feedback_stats["exact"]["n"],
            "accuracy": (summary or {}).get("accuracy", {}).get("avg"),
            "row_scores": sorted(
                r["evaluation_results"]["results"][0].score for r in results
            ),
            "warnings": logged,
        }
    )
)
