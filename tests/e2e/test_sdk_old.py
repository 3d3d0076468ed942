"""Older SDK lines, each in its own cached virtualenv, trace into the server.

0.1.60 can only POST /runs/batch; 0.1.147 (with the langchain-core of its era,
0.2.43) sends plain multipart; 0.4.60 sends zstd multipart and may deliver a
run's patch before its create.
"""

import pytest

from tests.e2e import trees
from tests.e2e.sdk import run_script, sdk_python, tracing_env

pytestmark = [pytest.mark.e2e, pytest.mark.oldsdk]

LINES = ["langsmith-0.1.60", "langsmith-0.1.147", "langsmith-0.4.60"]


@pytest.mark.parametrize("line", LINES)
def test_old_sdk_traceable(live_url, api_prefix, line):
    python = sdk_python(line)
    project = f"e2e-{line}-traceable"
    env = tracing_env(live_url + api_prefix, project)
    has_attachments = line != "langsmith-0.1.60"
    assert run_script("traceable.py", env, python=python) == {
        "error": "boom 3",
        "attachment": has_attachments,
    }
    trees.assert_traceable_traces(project, attachment=has_attachments)


@pytest.mark.parametrize(
    ("line", "spelling"),
    [("langsmith-0.1.147", "LANGCHAIN"), ("langsmith-0.4.60", "LANGSMITH")],
)
def test_old_sdk_langchain_chain(live_url, api_prefix, line, spelling):
    python = sdk_python(line)
    project = f"e2e-{line}-chain"
    env = tracing_env(live_url + api_prefix, project, spelling=spelling)
    assert run_script("chain.py", env, python=python) == {
        "invoke": 4,
        "batch": [2, 5],
    }
    trees.assert_chain_traces(project, tool_input_as_text=line == "langsmith-0.1.147")
