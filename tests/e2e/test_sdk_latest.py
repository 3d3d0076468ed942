"""The newest langsmith SDK and langchain-core trace into the real server."""

import pytest

from tests.e2e import trees
from tests.e2e.sdk import run_script, tracing_env

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("spelling", ["LANGCHAIN", "LANGSMITH"])
def test_langchain_chain_with_a_tool_is_stored_as_exact_trees(
    live_url, api_prefix, spelling
):
    project = f"e2e-chain-{spelling.lower()}"
    env = tracing_env(live_url + api_prefix, project, spelling=spelling)
    assert run_script("chain.py", env) == {"invoke": 4, "batch": [2, 5]}
    trees.assert_chain_traces(project)


def test_traceable_errors_slow_root_tokens_and_attachment(live_url, api_prefix):
    project = "e2e-traceable"
    env = tracing_env(live_url + api_prefix, project, spelling="LANGSMITH")
    assert run_script("traceable.py", env) == {"error": "boom 3", "attachment": True}
    trees.assert_traceable_traces(project, attachment=True)
