"""Errors the gateway itself produces on the MCP plane, each with its JSON-RPC code and HTTP status.

Upstream errors are never wrapped: a JSON-RPC error from an upstream server reaches the client
unchanged (same ``id``). Everything here is Portico's own answer:

- transport-level refusals (bad ``Accept``, unknown ``Mcp-Session-Id``, bad JSON) carry ``id: null``
  and the status the MCP SDK uses (400, 403, 404, 405, 406, 409, 415);
- 2026-07-28 validation failures use the spec's codes and its status table (streamable-http.mdx
  §Server Validation: -32602/-32020/-32021/-32022 → 400, -32601 → 404);
- upstream faults use Portico's documented codes -32003…-32011 (docs/architecture.md) with gateway
  statuses 502/503/504 when the answer is still a plain JSON response; once an SSE stream is
  committed they travel as an event on it.
"""

from __future__ import annotations

from typing import Any

from app.db_outage import DatabaseUnavailableError
from app.observe.request_id import current_request_id
from proxy.wire.jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
    RequestId,
    error_message,
)

UPSTREAM_UNAVAILABLE = -32003
UPSTREAM_FAILED = -32004
UPSTREAM_TIMEOUT = -32005
CAPACITY_EXCEEDED = -32006
PROTOCOL_ERA_NOT_SUPPORTED = -32008
UPSTREAM_AUTH_FAILED = -32009
CREDENTIAL_REQUIRED = -32011
POLICY_DENIED = -32012
SHUTTING_DOWN = -32000  # the MCP SDK's generic server error; see ShuttingDownError
# Retired, never produced: -32007 (upstream transport not supported: every transport is served now)
# and -32010 (client too slow: a slow reader loses notifications, never its response).


class GatewayError(Exception):
    """Base: ``code`` is the JSON-RPC error code, ``http_status`` the status of a plain JSON answer."""

    code: int = INVALID_REQUEST
    http_status: int = 400

    def __init__(self, message: str, *, data: object = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        self.headers = headers or {}

    def to_message(self, request_id: RequestId | None) -> dict[str, Any]:
        """The JSON-RPC error response for ``request_id`` (null for transport-level refusals).

        ``error.data`` gains ``request_id`` (the HTTP request's, :mod:`app.observe.request_id`) when
        it is absent or an object; data of another type (a string) is kept as it is.
        """
        return error_message(request_id, self.code, self.message, with_request_id(self.data))


def with_request_id(data: object) -> object:
    """``data`` with the current HTTP request's ID added as ``request_id`` (an object's members kept)."""
    current = current_request_id()
    if current is None:
        return data
    if data is None:
        return {"request_id": current}
    if isinstance(data, dict) and "request_id" not in data:
        return {**data, "request_id": current}
    return data


# --- transport-level refusals (id: null) -------------------------------------------------------


class ParseError(GatewayError):  # noqa: N818 - named after JSON-RPC's "Parse error"
    code = PARSE_ERROR
    http_status = 400


class InvalidRequestError(GatewayError):
    code = INVALID_REQUEST
    http_status = 400


class InvalidParamsError(GatewayError):
    """-32602 (400 in 2026-07-28's status table): the request's params do not have the spec's shape."""

    code = INVALID_PARAMS
    http_status = 400


class SessionNotFoundError(GatewayError):
    """Unknown, expired or another user's ``Mcp-Session-Id`` (transports §Session Management: 404)."""

    code = INVALID_REQUEST
    http_status = 404


class UnknownServerError(GatewayError):
    code = INVALID_REQUEST
    http_status = 404


class OriginNotAllowedError(GatewayError):
    """``Origin`` present and not allowed (2025-11-25 transports §Security Warning: 403)."""

    code = INVALID_REQUEST
    http_status = 403


class MethodNotAllowedError(GatewayError):
    code = INVALID_REQUEST
    http_status = 405


class NotAcceptableError(GatewayError):
    code = INVALID_REQUEST
    http_status = 406


class StreamConflictError(GatewayError):
    """A second GET stream on one session (the SDK answers 409 Conflict)."""

    code = INVALID_REQUEST
    http_status = 409


class UnsupportedMediaTypeError(GatewayError):
    code = INVALID_REQUEST
    http_status = 415


class UnsupportedProtocolVersionError(GatewayError):
    """``MCP-Protocol-Version`` names no revision Portico serves (-32022, ``data.supported``/``requested``)."""

    code = UNSUPPORTED_PROTOCOL_VERSION
    http_status = 400


class HeaderMismatchError(GatewayError):
    code = HEADER_MISMATCH
    http_status = 400


# --- upstream faults and capacity ---------------------------------------------------------------


class UpstreamUnavailableError(GatewayError):
    """The upstream server cannot be reached or started."""

    code = UPSTREAM_UNAVAILABLE
    http_status = 502


class UpstreamFailedError(GatewayError):
    """The upstream server failed during the request (exited, connection lost, no response)."""

    code = UPSTREAM_FAILED
    http_status = 502


class UpstreamTimeoutError(GatewayError):
    code = UPSTREAM_TIMEOUT
    http_status = 504


class UpstreamAuthFailedError(GatewayError):
    """The upstream refused Portico's credential (401/403); never relayed as a challenge to the client."""

    code = UPSTREAM_AUTH_FAILED
    http_status = 502


class CapacityExceededError(GatewayError):
    code = CAPACITY_EXCEEDED
    http_status = 503


class ShuttingDownError(GatewayError):
    """Portico stopped (SIGTERM) before the request finished within ``listen.shutdown_grace``."""

    code = SHUTTING_DOWN
    http_status = 503

    def __init__(self, grace: float) -> None:
        super().__init__("server shutting down", data={"shutdown_grace": grace}, headers={"retry-after": "5"})


class DatabaseUnavailableGatewayError(GatewayError):
    """Portico's own database is unavailable on a cold path (a credential read): -32603, HTTP 503 with
    ``Retry-After`` (RFC 9110 §10.2.3), ``data.retry_after`` in seconds. Warm requests never see it."""

    code = INTERNAL_ERROR
    http_status = 503

    @classmethod
    def of(cls, outage: DatabaseUnavailableError) -> DatabaseUnavailableGatewayError:
        seconds = outage.retry_after
        return cls(
            f"Service temporarily unavailable: Portico's database is unavailable; retry after {seconds} s",
            data={"reason": "database_unavailable", "retry_after": seconds},
            headers={"retry-after": str(seconds)},
        )


class ProtocolEraNotSupportedError(GatewayError):
    """A 2026-07-28 request for an upstream that only speaks the initialize handshake.

    An internal verdict today: such requests are bridged (``proxy/era_bridge/``), not refused. Should
    it reach a client, it is a 400 with a code outside the spec's "modern evidence" set, so dual-era
    clients fall back to ``initialize`` (streamable-http.mdx §Earlier revisions; SDK ``negotiate_auto``).
    """

    code = PROTOCOL_ERA_NOT_SUPPORTED
    http_status = 400


class RelayedUpstreamError(GatewayError):
    """An upstream's own JSON-RPC error to a request Portico made for the client (the handshake):
    relayed with its code, message and data unchanged, as a JSON-RPC response (HTTP 200)."""

    http_status = 200

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message", "upstream error")), data=error.get("data"))
        code = error.get("code")
        self.code = code if isinstance(code, int) else UPSTREAM_FAILED


class CredentialRequiredError(GatewayError):
    """``tools/call`` on a ``user_token`` server the user has not connected yet (Portico's own code).

    Answered as a JSON-RPC error response (HTTP 200, like any tool-call error the client must show)
    whose message and ``data.connect_url`` name the ``/connections`` page; ``data.server`` names
    the server. No secret is ever part of it.
    """

    code = CREDENTIAL_REQUIRED
    http_status = 200

    def __init__(self, server: str, connect_url: str) -> None:
        super().__init__(
            f"Connect your account for server {server!r} first: open {connect_url}",
            data={"server": server, "connect_url": connect_url, "reason": "credential_required"},
        )


class PolicyDeniedError(GatewayError):
    """A request for a server, tool, resource or prompt the access policy does not allow (Portico's own
    code, docs/policy.md).

    Answered as a JSON-RPC error response with HTTP 200 in both eras: the code is not in 2026-07-28's
    status table (streamable-http.mdx §Server Validation; SDK ``ERROR_CODE_HTTP_STATUS`` → default
    200), and a 403 would start step-up authorization in SDK clients. The message names the target
    and says "not allowed by policy"; ``data`` names ``server`` and the target (``tool``,
    ``resource`` or ``prompt``), never the rule that decided.
    """

    code = POLICY_DENIED
    http_status = 200

    def __init__(self, server: str, kind: str | None = None, name: str | None = None) -> None:
        if kind is None or name is None:
            message = f"server {server!r} is not allowed by policy"
            data: dict[str, str] = {"server": server, "reason": "policy_denied"}
        else:
            message = f"{kind} {name!r} on server {server!r} is not allowed by policy"
            data = {"server": server, kind: name, "reason": "policy_denied"}
        super().__init__(message, data=data)
