"""Connections to upstream servers: the message-connection seam, the pool, the multiplexer, the
data-plane HTTP client and relay, legacy HTTP+SSE connections, outbound headers."""
