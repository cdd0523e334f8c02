"""Wire pieces of the MCP plane: JSON-RPC messages and errors, SSE framing, ASGI plumbing, bounded
outboxes and delivery, Portico's MCP sessions, protocol revisions and eras."""
