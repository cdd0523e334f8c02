"""What happened, as plain records: one per MCP request through the gateway, one per authorization event.

Producers fill them cheaply (no formatting, no I/O) and hand them to :class:`app.observe.bus.EventBus`;
consumers (metrics, audit) turn them into counters or rows off the hot path. Records never carry
tool arguments, results, tokens, codes or cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Era = Literal["2024-11-05-sse", "handshake", "2026-07-28"]
"""The client's protocol era: legacy HTTP+SSE, the handshake era of Streamable HTTP (2025-03-26 …
2025-11-25), or stateless 2026-07-28."""


@dataclass(slots=True)
class McpRequestRecord:
    """One JSON-RPC request (or notification) a client sent to ``/<server>/mcp`` or ``/<server>/sse``.

    Times are Unix seconds (``started_at``) and seconds (``duration``, ``upstream_duration``);
    sizes are bytes. ``outcome`` is ``"ok"``, ``"error"`` (a JSON-RPC error answered: see
    ``error_code``) or ``"http_error"`` (no JSON-RPC answer: see ``http_status``).
    ``policy`` is ``"allowed"`` / ``"denied"`` / None (no policy applied), ``policy_rule`` the key
    of the deciding rule (``policy.rules[2]``, ``policy.default``, ``servers.x.tools.exclude``).
    ``limit`` names the rate limit or quota that refused the request (``error_code`` -32014).
    """

    started_at: float
    request_id: str
    server: str
    method: str
    era: Era
    transport: Literal["streamable-http", "sse"]
    subject: str | None = None
    email: str | None = None
    client_id: str | None = None
    target: str | None = None  # the tool / prompt name or resource URI the request names
    member: str | None = None  # the member server of a virtual server (aggregation)
    mcp_session_id: str | None = None
    client_address: str | None = None
    policy: Literal["allowed", "denied"] | None = None
    policy_rule: str | None = None
    limit: str | None = None
    outcome: Literal["ok", "error", "http_error"] = "ok"
    error_code: int | None = None
    http_status: int = 200
    duration: float = 0.0
    upstream_duration: float | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    # the request's ``params.arguments`` (tools/call, prompts/get), filled only when
    # ``EventBus.wants_arguments`` (audit.include_arguments); the audit redacts before storing
    arguments: dict[str, object] | None = None


@dataclass(slots=True)
class AuthEvent:
    """One authorization event: ``kind`` names it (``sign_in``, ``sign_in_refused``, ``consent_granted``,
    ``consent_denied``, ``consent_revoked``, ``client_registered``, ``token_issued``,
    ``refresh_reuse_detected``, ``token_revoked``, ``token_request_failed``, ``credential_connected``,
    ``credential_disconnected``, ``credential_refreshed``, ``credential_refresh_failed``; the admin
    commands' ``user_disabled``, ``user_enabled``, ``tool_approved``, ``keys_rewrapped``,
    ``signing_key_rotated``; docs/observability.md lists them). ``outcome`` is ``"ok"`` or
    ``"refused"``; ``reason`` a short machine-readable why (never a secret); ``details`` small,
    non-secret facts (e.g. ``grant_type``, ``provider``, ``server``, ``scope``).
    """

    at: float
    kind: str
    outcome: Literal["ok", "refused"] = "ok"
    request_id: str | None = None
    subject: str | None = None
    email: str | None = None
    client_id: str | None = None
    client_address: str | None = None
    reason: str | None = None
    details: dict[str, str] = field(default_factory=dict)
