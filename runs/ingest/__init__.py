"""The write flow: wire decoders turn bytes into run dicts; one service stores them."""

from runs.ingest.service import IngestResult, Rejection, ingest

__all__ = ["IngestResult", "Rejection", "ingest"]
