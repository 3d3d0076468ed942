"""OpenTelemetry (OTLP/HTTP) trace ingestion into the one ingest service.

``decode`` (protobuf) and ``otlp_json`` turn bodies into ``Span`` records;
``mapping`` turns a span into a LangSmith-shaped run dict, reading
``vocab`` (types, models, tokens, metadata) and ``messages`` (chat messages);
``tree`` derives dotted orders, and ``export.store_spans`` hands the runs to
``runs.ingest.ingest`` for both transports: ``views`` (OTLP/HTTP) and
``grpc_server`` (OTLP/gRPC, ``manage.py serve_otlp_grpc``).

Ids. A span maps to the same run however often and in whatever order it
arrives, so ids are computed, never stored in a side table:

* ``trace_id`` of every run of an OTel trace is the 16-byte trace id read as
  a UUID;
* a span's run id is its 8-byte span id followed by the last 8 bytes of the
  trace id, and its ``parent_run_id`` is the same function of its parent span
  id. A child computes its parent's run id without having seen the parent, so
  a child that arrives first links up when the parent comes.

The root's run id is therefore not the trace id (an OTel trace id names no
span): roots are the runs without a parent, and a trace's runs are found by
``trace_id``. The LangSmith SDK's OTel mode (0.15.1) gives its spans fresh
OTel ids, so its runs get ids computed the same way.
"""
