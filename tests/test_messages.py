"""Chat messages read from every message format the dashboard renders as a chat."""

from runs.messages import (
    MAX_TEXT,
    Message,
    Part,
    ToolCall,
    input_messages,
    output_messages,
    to_message,
)


def lc(cls: str, **kwargs) -> dict:
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "messages", cls],
        "kwargs": kwargs,
    }


def test_langchain_serialized_batch_becomes_one_conversation():
    inputs = {
        "messages": [
            [
                lc("SystemMessage", content="Be brief."),
                lc("HumanMessage", content="Weather in Oslo?"),
                lc(
                    "AIMessage",
                    content="",
                    tool_calls=[
                        {"name": "weather", "args": {"city": "Oslo"}, "id": "call_1"}
                    ],
                ),
                lc("ToolMessage", content="-3C", tool_call_id="call_1", name="weather"),
            ]
        ]
    }
    assert input_messages(inputs) == [
        Message("system", [Part("text", "Be brief.")]),
        Message("user", [Part("text", "Weather in Oslo?")]),
        Message(
            "assistant",
            [],
            tool_calls=[ToolCall("weather", '{\n  "city": "Oslo"\n}', "call_1")],
        ),
        Message("tool", [Part("text", "-3C")], name="weather", tool_call_id="call_1"),
    ]


def test_openai_messages_with_function_tool_calls():
    inputs = {
        "messages": [
            {"role": "developer", "content": "Rules"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c9",
                        "type": "function",
                        "function": {"name": "search", "arguments": '{"q": "x"}'},
                    }
                ],
            },
        ]
    }
    assert input_messages(inputs) == [
        Message("system", [Part("text", "Rules")]),
        Message(
            "assistant", [], tool_calls=[ToolCall("search", '{\n  "q": "x"\n}', "c9")]
        ),
    ]


def test_langchain_generations_output_with_message_and_plain_text():
    outputs = {
        "generations": [
            [
                {"text": "ignored", "message": lc("AIMessage", content="Hello")},
                {"text": "Plain completion"},
            ]
        ],
        "llm_output": {},
    }
    assert output_messages(outputs) == [
        Message("assistant", [Part("text", "Hello")]),
        Message("assistant", [Part("text", "Plain completion")]),
    ]


def test_openai_choices_output():
    outputs = {"choices": [{"message": {"role": "assistant", "content": "Hi"}}]}
    assert output_messages(outputs) == [Message("assistant", [Part("text", "Hi")])]


def test_message_dicts_by_type_and_legacy_function_call():
    message = {
        "type": "ai",
        "content": "",
        "additional_kwargs": {
            "function_call": {"name": "lookup", "arguments": "not json"}
        },
    }
    assert to_message(message) == Message(
        "assistant", [], tool_calls=[ToolCall("lookup", "not json", "")]
    )


def test_content_parts_text_images_and_anthropic_tool_use():
    png = "data:image/png;base64,iVBORw0KGgo="
    inputs = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image_url", "image_url": {"url": png}},
                    {"type": "image_url", "image_url": "https://evil.example/x.svg"},
                    {"type": "image_url", "image_url": {"url": None}},
                    {"type": "tool_use", "name": "zoom", "input": {"x": 1}, "id": "t1"},
                    {"type": "mystery", "value": 2},
                ],
            }
        ]
    }
    [message] = input_messages(inputs)
    assert message.parts == [
        Part("text", "Look"),
        Part("image", url=png),
        Part("image", url="https://evil.example/x.svg"),
        Part("image", url=""),
        Part("json", '{\n  "type": "mystery",\n  "value": 2\n}'),
    ]
    assert message.tool_calls == [ToolCall("zoom", '{\n  "x": 1\n}', "t1")]


def test_completion_prompts_become_user_messages():
    assert input_messages({"prompts": ["Once upon"]}) == [
        Message("user", [Part("text", "Once upon")])
    ]


def test_openai_format_outputs_from_otel_spans():
    outputs = {"messages": [{"role": "assistant", "content": "Done"}]}
    assert output_messages(outputs) == [Message("assistant", [Part("text", "Done")])]


def test_single_message_outputs():
    assert output_messages({"output": lc("AIMessage", content="Yes")}) == [
        Message("assistant", [Part("text", "Yes")])
    ]
    assert output_messages({"role": "assistant", "content": "Direct"}) == [
        Message("assistant", [Part("text", "Direct")])
    ]


def test_non_chat_payloads_are_not_chats():
    assert input_messages({"question": "2+2?"}) is None
    assert input_messages({"messages": ["just", "strings"]}) is None
    assert input_messages({"messages": [{"no": "role"}]}) is None
    assert input_messages(["not a dict"]) is None
    assert output_messages({"answer": "4"}) is None
    assert output_messages(None) is None
    assert output_messages({"generations": [[{"nothing": 1}]]}) is None


def test_huge_text_is_clipped():
    [message] = input_messages({"prompts": ["x" * (MAX_TEXT + 5)]})
    assert message.parts[0].text == "x" * MAX_TEXT + "\n… (5 more characters)"
