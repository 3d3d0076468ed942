"""A LangChain chat model traced by the real SDK is priced, and its chain's
echo of the AIMessage is not counted again; the SDK reads the costs back."""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.langchain import LangChainTracer, wait_for_all_tracers
from langsmith import Client

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:.*deprecated")]

# As langchain-openai reports a cached prompt: 1,500 input, 1,000 of them cached.
USAGE = {
    "input_tokens": 1500,
    "output_tokens": 300,
    "total_tokens": 1800,
    "input_token_details": {"cache_read": 1000},
}


class PricedFakeChatModel(GenericFakeChatModel):
    """The fake model, describing itself as ChatOpenAI(model="gpt-4o-mini") does."""

    def _get_ls_params(self, stop=None, **kwargs):
        params = super()._get_ls_params(stop=stop, **kwargs)
        params.update(ls_provider="openai", ls_model_name="gpt-4o-mini")
        return params


def test_chat_model_trace_is_priced_once_and_listed_with_costs(live_url, api_prefix):
    client = Client(api_url=f"{live_url}{api_prefix}", api_key="any-key")
    model = PricedFakeChatModel(
        messages=iter([AIMessage(content="Paris.", usage_metadata=USAGE)])
    )
    # The chain returns the model's AIMessage, usage and all.
    chain = RunnableLambda(lambda question: model.invoke(question)).with_config(
        run_name="Agent"
    )
    tracer = LangChainTracer(client=client, project_name="sdk-costs")
    chain.invoke("Capital of France?", config={"callbacks": [tracer]})
    wait_for_all_tracers()
    client.flush()

    runs = {run.run_type: run for run in client.list_runs(project_name="sdk-costs")}
    llm, root = runs["llm"], runs["chain"]
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M
    # (https://openai.com/api/pricing/): 500 x 0.15 + 1,000 x 0.075 = 150
    # -> $0.00015; 300 x 0.60 -> $0.00018.
    assert float(llm.prompt_cost) == pytest.approx(0.00015, rel=0.005)
    assert float(llm.completion_cost) == pytest.approx(0.00018, rel=0.005)
    assert float(llm.total_cost) == pytest.approx(0.00033, rel=0.005)
    assert llm.total_tokens == 1800
    # The root reports its trace: the one LLM call, once.
    assert root.total_tokens == 1800
    assert float(root.total_cost) == pytest.approx(0.00033, rel=0.005)
    project = client.read_project(project_name="sdk-costs", include_stats=True)
    assert float(project.total_cost) == pytest.approx(0.00033, rel=0.005)
    assert project.total_tokens == 1800
