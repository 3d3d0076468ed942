"""evaluate() from older langsmith lines, each in its cached virtualenv.

0.1.147 predates the multipart example routes (it sends JSON to
/examples/bulk); 0.4.60 sends examples as multipart.
"""

import pytest

from datasets.models import Example
from runs.models import Project, Run
from tests.e2e.sdk import run_script, sdk_python, tracing_env

pytestmark = [pytest.mark.e2e, pytest.mark.oldsdk]


@pytest.mark.parametrize("line", ["langsmith-0.1.147", "langsmith-0.4.60"])
def test_old_sdk_evaluate(live_url, api_prefix, line):
    env = tracing_env(live_url + api_prefix, "unused", spelling="LANGSMITH")
    out = run_script("evaluate.py", env, python=sdk_python(line), timeout=180)
    assert out["warnings"] == []
    assert out["examples"] == ["2+2", "3+3", "5+5"]
    assert out["reference_dataset_id"] == out["dataset_id"]
    assert (out["exact"], out["exact_n"]) == (pytest.approx(2 / 3), 6)
    # 0.4.x rounds summary scores to four places before sending them.
    assert round(out["accuracy"], 4) == 0.6667
    assert out["row_scores"] == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    project = Project.objects.get(name=out["experiment"])
    roots = Run.objects.filter(project=project, parent=None)
    assert roots.count() == 6
    example_ids = set(Example.objects.values_list("id", flat=True))
    assert {r.reference_example_id for r in roots} == example_ids
