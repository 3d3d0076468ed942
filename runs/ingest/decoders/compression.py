"""Request bodies compressed with gzip, deflate or zstd, inflated within a cap."""

from __future__ import annotations

import zlib

import zstandard

from runs.ingest.decoders.errors import DecodeError

_CHUNK = 64 * 1024


def decompress(body: bytes, encoding: str, *, limit: int) -> bytes:
    """Undo Content-Encoding with a streaming decoder that stops at ``limit`` bytes.

    LangSmith SDKs send one zstd frame without a content size, so a one-shot
    decompress cannot be used; the cap defeats decompression bombs.
    """
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "zstd":
        return _unzstd(body, limit)
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        out = bytearray()
        data = body
        try:
            while data:
                out += inflater.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise DecodeError(
                        f"decompressed body exceeds the limit of {limit} bytes", 413
                    )
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise DecodeError(f"invalid {encoding} body: {exc}") from None
        if not inflater.eof:
            raise DecodeError(f"truncated {encoding} body")
        return bytes(out)
    raise DecodeError(f"unsupported Content-Encoding {encoding!r}", 415)


def _unzstd(body: bytes, limit: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
    out = bytearray()
    try:
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise DecodeError(
                    f"decompressed body exceeds the limit of {limit} bytes", 413
                )
    except zstandard.ZstdError as exc:
        raise DecodeError(f"invalid zstd body: {exc}") from None
    # The stream reader stops quietly at the end of its input, so a cut frame
    # would pass as a shorter body.
    if not zstd_frames_complete(body):
        raise DecodeError("truncated zstd body")
    return bytes(out)


def zstd_frames_complete(body: bytes) -> bool:
    """Whether every zstd frame in ``body`` ends, by its headers (RFC 8878).

    Walks frame and block headers without decoding anything: a few steps per
    128 KB block, instead of decompressing the body a second time.
    """
    position, end = 0, len(body)
    while position < end:
        if end - position < 8:
            return False
        magic = int.from_bytes(body[position : position + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame: 4-byte size
            size = int.from_bytes(body[position + 4 : position + 8], "little")
            position += 8 + size
            continue
        descriptor = body[position + 4]
        single_segment = descriptor >> 5 & 1
        position += 5 + (1 - single_segment)  # magic, descriptor, window
        position += (0, 1, 2, 4)[descriptor & 3]  # dictionary id
        position += (single_segment, 2, 4, 8)[descriptor >> 6]  # content size
        while True:
            if end - position < 3:
                return False
            header = int.from_bytes(body[position : position + 3], "little")
            block_type = header >> 1 & 3
            position += 3 + (1 if block_type == 1 else header >> 3)  # RLE: 1 byte
            if header & 1:  # last block
                break
        position += 4 * (descriptor >> 2 & 1)  # content checksum
    return position == end
