"""Wire decoders: bytes to a Batch, with their limits."""

import uuid
import zlib

import pytest

from runs.ingest import decoders
from tests.e2e.wire import BOUNDARY, MULTIPART_TYPE, multipart, part, zstd_stream


def test_identity_encodings_pass_the_body_through():
    assert decoders.decompress(b"abc", "", limit=1) == b"abc"
    assert decoders.decompress(b"abc", " Identity ", limit=1) == b"abc"


def test_zstd_accepts_several_frames_one_after_another():
    body = zstd_stream(b"hello ") + zstd_stream(b"world")
    assert decoders.decompress(body, "ZSTD", limit=100) == b"hello world"


def test_corrupt_deflate_is_a_decode_error():
    with pytest.raises(decoders.DecodeError) as caught:
        decoders.decompress(b"\x00\x01garbage", "deflate", limit=100)
    assert caught.value.status == 400
    assert str(caught.value).startswith("invalid deflate body: ")


def test_deflate_stops_at_the_limit():
    with pytest.raises(decoders.DecodeError) as caught:
        decoders.decompress(zlib.compress(b"a" * 5000), "deflate", limit=1000)
    assert caught.value.status == 413


def test_loads_limits_depth_of_lists_and_objects():
    assert decoders.loads(b'{"a": [[1]]}', max_depth=3) == {"a": [[1]]}
    with pytest.raises(decoders.DecodeError, match="deeper than 2 levels"):
        decoders.loads(b'{"a": [[1]]}', max_depth=2)
    with pytest.raises(decoders.DecodeError, match="deeper than 2 levels"):
        decoders.loads(b'[{"a": {}}]', max_depth=2)


def test_parts_after_a_preamble_are_read():
    run_id = uuid.uuid4()
    body = b"preamble text\r\n" + multipart(part(f"post.{run_id}", {"id": str(run_id)}))
    parts = list(decoders.iter_parts(body, MULTIPART_TYPE))
    assert parts == [
        (f"post.{run_id}", "application/json", f'{{"id":"{run_id}"}}'.encode())
    ]


def test_part_headers_are_case_insensitive_and_parameters_dropped():
    body = (
        f"--{BOUNDARY}\r\n"
        'CONTENT-DISPOSITION: form-data; NAME="attachment.x.img"\r\n'
        "content-type: image/png; length=3\r\n\r\n"
        "abc\r\n"
        f"--{BOUNDARY}--\r\n"
    ).encode()
    ctype = f'multipart/form-data; boundary="{BOUNDARY}"'
    assert list(decoders.iter_parts(body, ctype)) == [
        ("attachment.x.img", "image/png", b"abc")
    ]


def test_a_part_without_a_name_is_rejected_as_unnamed():
    body = (
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    ).encode()
    batch = decoders.decode_multipart(body, MULTIPART_TYPE)
    assert [(r.item, r.field) for r in batch.rejected] == [("(unnamed part)", "name")]


def test_field_part_before_its_run_object_still_wins():
    run_id = uuid.uuid4()
    body = multipart(
        part(f"post.{run_id}.inputs", {"from": "part"}),
        part(f"post.{run_id}", {"id": str(run_id), "inputs": {"from": "inline"}}),
    )
    batch = decoders.decode_multipart(body, MULTIPART_TYPE)
    assert [op.values["inputs"] for op in batch.ops] == [{"from": "part"}]


def test_run_id_comes_from_the_part_name_when_the_object_has_none():
    run_id = uuid.uuid4()
    body = multipart(part(f"patch.{run_id}", {"id": None, "end_time": None}))
    batch = decoders.decode_multipart(body, MULTIPART_TYPE)
    assert [(op.kind, op.id, op.values) for op in batch.ops] == [("patch", run_id, {})]


def test_single_run_body_must_be_an_object():
    batch = decoders.decode_single("post", b"[1]")
    assert [(r.item, r.field) for r in batch.rejected] == [("post", "run")]
    assert len(batch) == 0


def test_batch_lists_may_be_null():
    batch = decoders.decode_batch_json(b'{"post": null, "patch": []}')
    assert (batch.ops, batch.rejected) == ([], [])


def test_zstd_frame_walk_agrees_with_the_decoder_on_every_cut():
    import os

    import zstandard

    data = os.urandom(3000) + b"a" * 300_000 + os.urandom(200_000)
    frames = [
        zstd_stream(data),
        zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data),
        zstandard.ZstdCompressor(write_content_size=True).compress(b""),
    ]
    for frame in frames:
        assert decoders.zstd_frames_complete(frame)
        assert decoders.zstd_frames_complete(frame + frame)
        for cut in sorted({1, 4, 7, len(frame) // 2, len(frame) - 1} - {0}):
            if cut >= len(frame):
                continue
            decoder = zstandard.ZstdDecompressor().decompressobj()
            try:
                decoder.decompress(frame[:cut])
            except zstandard.ZstdError:
                pass
            assert not decoder.eof
            assert not decoders.zstd_frames_complete(frame[:cut])


def test_skippable_frames_are_walked_over():
    skippable = (0x184D2A5A).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    frame = zstd_stream(b"hello")
    assert decoders.zstd_frames_complete(skippable + frame)
    assert decoders.decompress(skippable + frame, "zstd", limit=100) == b"hello"
    assert not decoders.zstd_frames_complete(skippable[:-1])


def test_reserved_looking_keys_in_a_run_object_are_plain_unknown_keys():
    run_id = uuid.uuid4()
    body = multipart(
        part(f"post.{run_id}", {"id": str(run_id), "__fields__": 5, "name": "n"}),
        part(f"post.{run_id}.inputs", {"q": 1}),
    )
    batch = decoders.decode_multipart(body, MULTIPART_TYPE)
    assert batch.rejected == []
    assert [op.values for op in batch.ops] == [{"name": "n", "inputs": {"q": 1}}]
