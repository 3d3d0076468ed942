"""A LangChain chain (prompt | fake chat model | parser | lambda | tool), traced.

Run by the e2e tests in a clean process whose environment points the SDK at
the server; prints the chain's results as JSON on the last line.
"""

import json

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.tracers.langchain import wait_for_all_tracers


@tool
def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


prompt = ChatPromptTemplate.from_messages(
    [("system", "You answer in one line."), ("human", "Tell me about {topic}")]
)
model = FakeListChatModel(
    responses=["cats purr and sleep", "dogs bark", "fish swim in the sea"]
)
to_tool_input = RunnableLambda(lambda text: {"text": text})
chain = prompt | model | StrOutputParser() | to_tool_input | word_count

single = chain.invoke(
    {"topic": "cats"}, config={"tags": ["invoke"], "metadata": {"case": "invoke"}}
)
# One at a time, so each input meets the fake model's next answer in order.
several = chain.batch(
    [{"topic": "dogs"}, {"topic": "fish"}],
    config={"tags": ["batch"], "max_concurrency": 1},
)
wait_for_all_tracers()
print(json.dumps({"invoke": single, "batch": several}))
