"""Wire decoders: request bytes to a ``Batch``.

They know formats and limits, not models: compression (``compression``), JSON
bodies (``json_bodies``) and LangSmith's multipart form (``multipart``).
"""

from runs.ingest.decoders.compression import decompress, zstd_frames_complete
from runs.ingest.decoders.errors import DecodeError
from runs.ingest.decoders.json_bodies import (
    decode_batch_json,
    decode_single,
    loads,
    too_many_items,
)
from runs.ingest.decoders.multipart import (
    MULTIPART_FIELDS,
    decode_multipart,
    iter_parts,
)

__all__ = [
    "MULTIPART_FIELDS",
    "DecodeError",
    "decode_batch_json",
    "decode_multipart",
    "decode_single",
    "decompress",
    "iter_parts",
    "loads",
    "too_many_items",
    "zstd_frames_complete",
]
