"""The one-split multipart reader gives what the part-by-part scan gives."""

import random

import pytest

from runs.ingest.decoders import multipart as decoders
from tests.e2e.wire import BOUNDARY, MULTIPART_TYPE

B = BOUNDARY.encode()


def _scan(body: bytes) -> list[tuple[bytes, bytes]]:
    return list(decoders._scan_parts(body, B))


@pytest.mark.parametrize(
    "body",
    [
        b"--"
        + B
        + b"\r\nA: 1\r\n\r\nx\r\n--"
        + B
        + b"\r\nB: 2\r\n\r\n\r\n--"
        + B
        + b"--",
        b"preamble\r\n--" + B + b"\r\nA: 1\r\n\r\n{}\r\n--" + B + b"--\r\nepilogue",
        # An empty header block, and a payload holding a blank line.
        b"--" + B + b"\r\n\r\na\r\n\r\nb\r\n--" + B + b"--",
        # A payload holding the delimiter without its CRLF is payload.
        b"--" + B + b"\r\nA: 1\r\n\r\nx--" + B + b"\r\n--" + B + b"--",
    ],
)
def test_well_formed_bodies_split_like_the_scan(body):
    assert decoders._split_parts(body, B) == _scan(body)
    assert list(decoders._raw_parts(body, MULTIPART_TYPE)) == _scan(body)


@pytest.mark.parametrize(
    "body",
    [
        # Headers without a blank line before the next delimiter: the scan
        # reads on into the next part, the split leaves it to the scan.
        b"--" + B + b"\r\nA: 1\r\n--" + B + b"\r\nB: 2\r\n\r\ny\r\n--" + B + b"--",
        # A blank line that is also the start of the next delimiter.
        b"--" + B + b"\r\n\r\n--" + B + b"\r\nA: 1\r\n\r\nz\r\n--" + B + b"--",
    ],
)
def test_unusual_bodies_are_left_to_the_scan(body):
    assert decoders._split_parts(body, B) is None
    assert list(decoders._raw_parts(body, MULTIPART_TYPE)) == _scan(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"--" + B + b"\r\nA: 1\r\n\r\nx", "truncated multipart body"),
        (b"--" + B + b"xx", "malformed multipart boundary line"),
        (b"--" + B + b"\r\nA: 1\r\n--" + B + b"--", "without a header end"),
    ],
)
def test_malformed_bodies_fail_with_the_scan_message(body, message):
    assert decoders._split_parts(body, B) is None
    with pytest.raises(decoders.DecodeError, match=message):
        list(decoders._raw_parts(body, MULTIPART_TYPE))


def test_random_bodies_split_like_the_scan_or_are_left_to_it():
    tokens = [b"\r\n", b"--", b"--" + B, b"\r\n--" + B, b"A: 1", b"\r\n\r\n", b"x"]
    rng = random.Random(1)
    for _ in range(5000):
        body = b"--" + B + b"".join(rng.choices(tokens, k=rng.randint(1, 12)))
        split = decoders._split_parts(body, B)
        if split is not None:
            assert split == _scan(body), body
