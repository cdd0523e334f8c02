"""One authorization code flow in flight at an upstream authorization server, and the cookie that
binds it to the browser: a sign-in at an upstream IdP, or connecting a user's account at an upstream
MCP server's authorization server.

Starting a flow creates an :class:`UpstreamFlow`: a random ``state`` (RFC 6749 §10.12), PKCE
``code_verifier`` (RFC 7636 §4.1) and ``nonce`` (OpenID Connect Core §3.1.2.1), plus where the
browser returns afterwards. The flow travels in a cookie, sealed with AES-256-GCM (authenticated:
forging or altering it fails) under associated data naming the ``provider`` (the caller's binding:
an IdP's id, or a server and user), so the verifier never reaches the authorization server or the
page. The cookie's name is derived from ``state``, so several flows may run in parallel tabs; it
lives :data:`FLOW_LIFETIME` seconds.

At the callback the ``state`` parameter must name a cookie that opens, for this provider, issued
less than :data:`FLOW_LIFETIME` seconds ago, holding the same ``state`` (compared in constant
time). Single use is the caller's job: it spends the :attr:`UpstreamFlow.state_id` in
``used_states``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from app.crypto import DecryptionError, Sealer
from app.return_to import MAX_RETURN_TO_LENGTH

FLOW_LIFETIME = 600
FLOW_COOKIE_PREFIX = "portico_idp_"
# Browsers cap a cookie at 4096 bytes; the sealed flow grows by about a third over its JSON.
MAX_FLOW_RETURN_TO = min(MAX_RETURN_TO_LENGTH, 2048)
_AAD = "upstream-idp-flow|"


@dataclass(frozen=True)
class UpstreamFlow:
    """``issued_at`` is epoch seconds; ``nonce`` is sent to OpenID providers only."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    return_to: str
    issued_at: int

    @property
    def state_id(self) -> str:
        """The key that marks this flow used (SHA-256 of ``state``, hex): never the state itself."""
        return hashlib.sha256(self.state.encode()).hexdigest()

    @property
    def expires_at(self) -> int:
        return self.issued_at + FLOW_LIFETIME


def new_flow(provider: str, return_to: str, now: int) -> UpstreamFlow:
    """A fresh flow: 256-bit ``state`` and ``nonce``, an 86-character verifier (RFC 7636 §4.1: 43-128)."""
    return UpstreamFlow(
        provider=provider,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        return_to=return_to,
        issued_at=now,
    )


def flow_cookie_base(state: str) -> str:
    """The cookie name (before any ``__Host-`` prefix) for the flow with this ``state``."""
    return FLOW_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def seal_flow(sealer: Sealer, flow: UpstreamFlow) -> str:
    """The cookie value (URL-safe characters, no padding)."""
    fields = [flow.state, flow.nonce, flow.code_verifier, flow.return_to, flow.issued_at]
    plaintext = json.dumps(fields, separators=(",", ":")).encode()
    return sealer.encrypt(plaintext, associated_data=_AAD + flow.provider).rstrip("=")


def open_flow(sealer: Sealer, value: str | None, *, provider: str, state: str, now: int) -> UpstreamFlow | None:
    """The flow in cookie ``value`` when it is intact, for ``provider`` and ``state``, and unexpired."""
    if not value or not state:
        return None
    try:
        fields = json.loads(sealer.decrypt(_repad(value), associated_data=_AAD + provider))
    except (DecryptionError, UnicodeDecodeError, ValueError):
        return None
    flow = _flow(provider, fields)
    if flow is None or not hmac.compare_digest(flow.state.encode(), state.encode()):
        return None
    return flow if 0 <= now - flow.issued_at < FLOW_LIFETIME else None


def _flow(provider: str, fields: object) -> UpstreamFlow | None:
    if not isinstance(fields, list) or len(fields) != 5:
        return None
    state, nonce, verifier, return_to, issued_at = fields
    if not all(isinstance(text, str) and text for text in (state, nonce, verifier, return_to)):
        return None
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        return None
    return UpstreamFlow(provider, state, nonce, verifier, return_to, issued_at)


def _repad(value: str) -> str:
    return value + "=" * (-len(value.rpartition(".")[2]) % 4)
