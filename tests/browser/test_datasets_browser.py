"""The dataset pages in headless Chromium: no console error (CSP included),
the experiments table, a highlighted regression, and Add to dataset."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from datasets.models import Example
from runs.models import Feedback
from tests.browser.seed import XSS, agent_trace
from tests.factories import DatasetFactory, ExampleFactory, ProjectFactory, RunFactory

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTIONS = [("2+2", "4"), ("3+3", "6"), (XSS, "safe")]


def seeded() -> tuple:
    dataset = DatasetFactory(name="arith", description="small sums")
    examples = [
        ExampleFactory(dataset=dataset, inputs={"q": q}, outputs={"a": a})
        for q, a in QUESTIONS
    ]
    experiments = []
    for age, name, scores in [
        (10, "baseline-run", [1.0, 1.0, 0.0]),
        (0, "candidate-run", [1.0, 0.0, 1.0]),
    ]:
        start = timezone.now() - timedelta(minutes=age)
        project = ProjectFactory(
            name=name, reference_dataset_id=dataset.id, created_at=start
        )
        for example, score in zip(examples, scores, strict=True):
            run = RunFactory(
                project=project,
                reference_example_id=example.id,
                start_time=start,
                end_time=start + timedelta(milliseconds=400 + 300 * score),
                outputs={"a": example.outputs["a"] if score else "wrong"},
            )
            Feedback.objects.create(
                run_id=run.id, session_id=project.id, key="exact", score=score
            )
        experiments.append(project)
    return dataset, experiments


def test_datasets_list_detail_and_comparison_with_a_regression(web):
    dataset, (baseline, candidate) = seeded()
    web.go("/datasets")
    page = web.page
    assert page.locator("nav a[aria-current=page]").inner_text() == "Datasets"
    row = page.locator("#datasets tbody tr")
    assert row.locator("td").nth(1).inner_text() == "3"
    assert row.locator("td").nth(2).inner_text() == "2"
    web.shot("datasets-list")

    page.click("text=arith")
    page.wait_for_url(re.compile(rf"/datasets/{dataset.id}$"))
    table = page.locator("#experiments tbody tr")
    assert table.count() == 2
    assert [table.nth(i).locator("td").nth(2).inner_text() for i in range(2)] == [
        "0.67",
        "0.67",
    ]
    # The attacker's text is shown as text, never run.
    assert "<script>window.__xss=1</script>" in page.locator("#examples").inner_text()
    assert page.evaluate("window.__xss") is None
    web.shot("dataset-detail")

    page.check(f"input[value='{baseline.id}']")
    page.check(f"input[value='{candidate.id}']")
    page.click("text=Compare selected")
    page.wait_for_url(re.compile(r"/compare\?"))
    regression = page.locator("tr.has-regression")
    assert regression.count() == 1
    assert "3+3" in regression.locator("td").first.inner_text()
    highlighted = regression.locator("li.score.regression")
    assert highlighted.inner_text().startswith("exact 0.00")
    color = highlighted.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(207, 34, 46)"
    assert page.locator("tr.has-improvement").count() == 1
    assert page.evaluate("window.__xss") is None
    web.shot("dataset-compare")

    page.select_option("#f-show", "regressions")
    page.wait_for_url(re.compile(r"show=regressions"))
    assert page.locator("#comparison tbody tr").count() == 1
    web.shot("dataset-compare-regressions")


def test_add_to_dataset_from_the_trace_page(web):
    DatasetFactory(name="collected")
    root, _llm, _tool = agent_trace("to-collect")
    web.go(f"/traces/{root.trace_id}?run={root.id}")
    page = web.page
    page.wait_for_selector(f'.run-panel[data-run-id="{root.id}"]')
    page.click(".run-panel form.add-to-dataset button")
    page.wait_for_url(re.compile(r"/datasets/.+\?added="))
    example = Example.objects.get(source_run_id=root.id)
    assert example.inputs == {"question": "What is the weather in Oslo?"}
    assert page.locator("tr.added").count() == 1
    web.shot("dataset-added-from-run")
