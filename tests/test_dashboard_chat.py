"""The chat the trace page shows: raster data images inline, any other image as text."""

from dashboard.chat import input_chat, output_chat
from runs.messages import Message, Part


def test_only_raster_data_images_are_shown_and_others_are_named_as_text():
    png = "data:image/png;base64,iVBORw0KGgo="
    svg = "data:image/svg+xml;base64,PHN2Zz4="
    remote = "https://evil.example/" + "x" * 300
    inputs = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image_url", "image_url": {"url": png}},
                    {"type": "image_url", "image_url": svg},
                    {"type": "image_url", "image_url": {"url": remote}},
                ],
            }
        ]
    }
    assert input_chat(inputs) == [
        Message(
            "user",
            [
                Part("text", "Look"),
                Part("image", url=png),
                Part("text", f"[image: {svg}]"),
                Part("text", f"[image: {remote[:200]}]"),
            ],
        )
    ]


def test_inputs_and_outputs_that_are_not_a_chat_show_no_chat():
    assert input_chat({"question": "hi"}) is None
    assert output_chat({"answer": "hello"}) is None
    assert output_chat({"output": {"role": "assistant", "content": "hi"}}) == [
        Message("assistant", [Part("text", "hi")])
    ]
