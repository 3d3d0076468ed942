"""The exact trees the e2e scripts must leave in the database."""

from __future__ import annotations

from runs.models import Attachment, Run

CHAIN_CASES = [  # (topic, fake model answer, word count, tag), in call order
    ("cats", "cats purr and sleep", 4, "invoke"),
    ("dogs", "dogs bark", 2, "batch"),
    ("fish", "fish swim in the sea", 5, "batch"),
]
CHAIN_STEPS = [
    ("ChatPromptTemplate", "prompt"),
    ("FakeListChatModel", "llm"),
    ("StrOutputParser", "parser"),
    ("RunnableLambda", "chain"),
    ("word_count", "tool"),
]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def roots(project: str) -> list[Run]:
    return list(
        Run.objects.filter(project__name=project, parent=None).order_by("start_time")
    )


def children(root: Run) -> list[Run]:
    runs = Run.objects.filter(trace_id=root.id).exclude(id=root.id)
    return list(runs.order_by("dotted_order"))


def assert_child_of(child: Run, parent: Run) -> None:
    assert child.parent_id == parent.id
    assert child.trace_id == parent.trace_id
    assert child.project_id == parent.project_id
    assert child.dotted_order.startswith(parent.dotted_order + ".")
    assert child.dotted_order.count(".") == parent.dotted_order.count(".") + 1
    assert child.dotted_order.endswith(str(child.id))
    assert child.start_time >= parent.start_time
    assert child.end_time <= parent.end_time


def assert_chain_traces(project: str, *, tool_input_as_text: bool = False) -> None:
    """Three RunnableSequence traces of five steps (one invoke, a batch of two)."""
    traces = roots(project)
    assert len(traces) == 3
    assert Run.objects.filter(project__name=project).count() == 18
    for root, (topic, answer, count, tag) in zip(traces, CHAIN_CASES, strict=True):
        assert (root.name, root.run_type, root.status) == (
            "RunnableSequence",
            "chain",
            "success",
        )
        assert root.trace_id == root.id
        assert root.dotted_order == (
            root.start_time.strftime("%Y%m%dT%H%M%S%fZ") + str(root.id)
        )
        assert (root.inputs, root.outputs, root.error) == (
            {"topic": topic},
            {"output": count},
            None,
        )
        assert tag in root.tags
        steps = children(root)
        assert [(s.name, s.run_type) for s in steps] == CHAIN_STEPS
        for step in steps:
            assert_child_of(step, root)
            assert (step.status, step.error) == ("success", None)
        prompt, llm, parser, to_input, tool = steps
        assert prompt.inputs == {"topic": topic}
        messages = prompt.outputs["output"]["messages"]
        assert [m["content"] for m in messages] == [
            "You answer in one line.",
            f"Tell me about {topic}",
        ]
        assert llm.outputs["generations"][0][0]["text"] == answer
        assert (llm.prompt_tokens, llm.completion_tokens, llm.total_tokens) == (0, 0, 0)
        assert parser.outputs == {"output": answer}
        assert to_input.outputs == {"text": answer}
        expected = (
            {"input": str({"text": answer})} if tool_input_as_text else {"text": answer}
        )
        assert tool.inputs == expected
        assert tool.outputs == {"output": count}
    assert traces[0].extra["metadata"]["case"] == "invoke"


def assert_traceable_traces(
    project: str, *, attachment: bool, start_in_own_request: bool = True
) -> None:
    """outer > middle > inner raising; slow_root > fake_llm; with_attachment."""
    by_name = {run.name: run for run in Run.objects.filter(project__name=project)}
    expected = {"outer", "middle", "inner", "slow_root", "fake_llm"}
    if attachment:
        expected.add("with_attachment")
    assert set(by_name) == expected

    outer, middle, inner = by_name["outer"], by_name["middle"], by_name["inner"]
    assert outer.parent_id is None and outer.trace_id == outer.id
    assert_child_of(middle, outer)
    assert_child_of(inner, middle)
    for run, x, run_type in (
        (outer, 1, "chain"),
        (middle, 2, "chain"),
        (inner, 3, "tool"),
    ):
        assert (run.run_type, run.status, run.inputs) == (run_type, "error", {"x": x})
        assert run.error.startswith("ValueError('boom 3')\n\nTraceback")
        assert run.outputs == {"output": None}

    root, llm = by_name["slow_root"], by_name["fake_llm"]
    assert (root.parent_id, root.status, root.error) == (None, "success", None)
    assert (root.inputs, root.outputs) == (
        {"question": "hello"},
        {"answer": "re: hello"},
    )
    assert (root.end_time - root.start_time).total_seconds() >= 1.5
    if start_in_own_request:
        # The root's end reached the server in a later request than its create.
        assert (root.updated_at - root.created_at).total_seconds() >= 0.5
    assert_child_of(llm, root)
    assert (llm.run_type, llm.status, llm.inputs) == (
        "llm",
        "success",
        {"prompt": "hello"},
    )
    assert llm.outputs["usage_metadata"] == {
        "input_tokens": 12,
        "output_tokens": 5,
        "total_tokens": 17,
    }
    assert (llm.prompt_tokens, llm.completion_tokens, llm.total_tokens) == (12, 5, 17)
    assert (llm.model_name, llm.model_provider) == ("fake-model-1", "fake")

    if attachment:
        run = by_name["with_attachment"]
        assert (run.status, run.outputs) == ("success", {"seen": "an image"})
        stored = Attachment.objects.get(run_id=run.id)
        try:
            assert (stored.name, stored.content_type, stored.size) == (
                "image",
                "image/png",
                len(PNG),
            )
            with stored.file.open("rb") as handle:
                assert handle.read() == PNG
        finally:
            stored.file.delete(save=False)
    else:
        assert not Attachment.objects.exists()
