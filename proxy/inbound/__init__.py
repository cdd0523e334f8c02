"""The client-facing side: the ``/<name>/mcp`` endpoint and its two eras, legacy HTTP+SSE clients,
``Origin`` checks, and the short path that serves MCP routes before the router."""
