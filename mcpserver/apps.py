from django.apps import AppConfig


class MCPServerConfig(AppConfig):
    name = "mcpserver"
    verbose_name = "MCP server"
