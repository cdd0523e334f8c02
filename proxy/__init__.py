"""The MCP gateway data plane."""
