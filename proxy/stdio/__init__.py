"""Upstream MCP servers run as child processes speaking MCP over stdio (one process per user by default)."""
