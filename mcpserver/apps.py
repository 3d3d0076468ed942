from django.apps import AppConfig


class MCPServerConfig(AppConfig):
    name = "mcpserver"
    verbose_name = "MCP server"

    def ready(self) -> None:
        # The tools register themselves on import. Every process needs them
        # before its first call: a stateless client may send tools/call to a
        # worker that never answered tools/list.
        from mcpserver import handlers, thread_tools  # noqa: F401
