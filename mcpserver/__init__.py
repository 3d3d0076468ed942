"""The Model Context Protocol server: coding agents read Agent Spy's traces."""
