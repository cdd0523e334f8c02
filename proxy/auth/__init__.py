"""The resource server of every MCP route: bearer tokens in, verified claims out (RFC 6750, RFC 9728)."""
