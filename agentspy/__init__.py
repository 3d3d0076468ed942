"""Agent Spy: a self-hosted tracing server for LangSmith and OpenTelemetry clients."""

__version__ = "0.1.0"
