"""@traceable: three deep with an exception, a slow root, tokens, an attachment.

Works with every langsmith line from 0.1.60 on (Attachment only where the SDK
has it); prints what it traced as JSON on the last line.
"""

import json
import time

from langsmith import Client, traceable

try:
    from langsmith.schemas import Attachment
except ImportError:  # langsmith < 0.1.1xx has no attachments
    Attachment = None

client = Client()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@traceable(name="inner", run_type="tool", client=client)
def inner(x: int) -> int:
    raise ValueError(f"boom {x}")


@traceable(name="middle", client=client)
def middle(x: int) -> int:
    return inner(x + 1)


@traceable(name="outer", client=client)
def outer(x: int) -> int:
    return middle(x + 1)


@traceable(
    name="fake_llm",
    run_type="llm",
    client=client,
    metadata={"ls_model_name": "fake-model-1", "ls_provider": "fake"},
)
def fake_llm(prompt: str) -> dict:
    return {
        "choices": [{"message": {"role": "assistant", "content": f"re: {prompt}"}}],
        "usage_metadata": {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17},
    }


@traceable(name="slow_root", client=client)
def slow_root(question: str) -> dict:
    answer = fake_llm(question)
    # Long enough that the child's and the root's create are flushed before
    # the root ends: its end then comes in a later request.
    time.sleep(1.5)
    return {"answer": answer["choices"][0]["message"]["content"]}


done = {"error": None, "attachment": False}
try:
    outer(1)
except ValueError as exc:
    done["error"] = str(exc)
slow_root("hello")

if Attachment is not None:

    @traceable(name="with_attachment", client=client)
    def with_attachment(note: str, image: Attachment) -> dict:
        return {"seen": note}

    with_attachment("an image", Attachment(mime_type="image/png", data=PNG))
    done["attachment"] = True

if hasattr(client, "flush"):
    client.flush()
else:  # 0.1.x
    client.tracing_queue.join()
print(json.dumps(done))
