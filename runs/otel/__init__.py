"""OpenTelemetry (OTLP/HTTP) trace ingestion into the one ingest service.

``decode`` turns protobuf or OTLP/JSON bodies into ``Span`` records,
``mapping`` turns a span into a LangSmith-shaped run dict, ``tree`` derives
dotted orders, and ``views`` hands the runs to ``runs.ingest.ingest``.

Ids. A span maps to the same run however often and in whatever order it
arrives, so ids are computed, never stored in a side table:

* ``trace_id`` of every run of an OTel trace is the 16-byte trace id read as
  a UUID;
* a span's run id is its 8-byte span id followed by the last 8 bytes of the
  trace id, and its ``parent_run_id`` is the same function of its parent span
  id. A child computes its parent's run id without having seen the parent, so
  a child that arrives first links up when the parent comes.

The LangSmith SDK in OTel mode uses the root run's UUID as the trace id and
the first 8 bytes of each run id as the span id, so for its traces the root
run's id is the trace id again, as LangSmith requires, and every run id keeps
its original (time-ordered) first half. For other exporters the root's id is
not the trace id: roots are still the runs without a parent, and the trace's
runs are still found by ``trace_id``.
"""
