"""Bridging the two MCP protocol eras (2026-07-28 basic/index.mdx §Protocol Eras).

A 2026-07-28 client in front of an upstream that speaks only the initialize handshake
(2024-11-05 … 2025-11-25): Portico runs one initialized upstream session per (user, server) and
translates each stateless request onto it (``bridge.py``). The pieces, one concept each:

- ``envelope.py`` — the per-request ``_meta`` envelope removed on the way up, the 2026-07-28
  result fields (``resultType``, cache hints, the ``serverInfo`` stamp) added on the way back,
  and ``server/discover`` synthesized from the cached ``InitializeResult``;
- ``request_state.py`` — the HMAC-protected ``requestState`` of an ``input_required`` result;
- ``parking.py`` — upstream requests parked while the client answers ``inputRequests``;
- ``http_connection.py`` — a handshake-era Streamable HTTP upstream as a message connection,
  so Streamable HTTP upstreams are bridged by the same code as stdio and legacy SSE ones;
- ``http_probe.py`` — whether a Streamable HTTP upstream speaks 2026-07-28 (``server/discover``).
"""
