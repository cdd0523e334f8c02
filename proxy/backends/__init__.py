"""One backend per configured server, whatever its transport: Streamable HTTP, message-level
(stdio, legacy SSE), ``auto``; and the credential guard wrapped around per-user servers."""
