"""``WWW-Authenticate: Bearer`` challenges and error bodies, built once per (resource, error, reason).

Parameter values are RFC 9110 §5.6.4 quoted-strings. ``error_description`` and ``scope`` are first
reduced to the characters RFC 6750 §3 allows in them (no ``"``, no ``\\``, no controls, ASCII only),
so a reason can never break out of its quotes or inject a header line.
"""

from __future__ import annotations

import json
from functools import lru_cache

from oauth.tokens.resources import ProtectedResource

INSUFFICIENT_SCOPE = "insufficient_scope"
INVALID_TOKEN = "invalid_token"  # noqa: S105 - an RFC 6750 error code, not a secret

# RFC 6750 §3: error_description = %x20-21 / %x23-5B / %x5D-7E; scope-token = %x21 / %x23-5B / %x5D-7E.
_DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}
_SCOPE_CHARS = _DESCRIPTION_CHARS  # scope = scope-token *( SP scope-token )


def safe_text(value: str, allowed: frozenset[str] = _DESCRIPTION_CHARS) -> str:
    """``value`` with every character outside ``allowed`` dropped (RFC 6750 §3 character sets)."""
    return "".join(c for c in value if c in allowed)


def quoted_string(value: str) -> str:
    """RFC 9110 §5.6.4 quoted-string: ``"`` and ``\\`` escaped; controls and non-ASCII dropped."""
    kept = "".join(c for c in value if c == "\t" or 0x20 <= ord(c) < 0x7F)
    return '"' + kept.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_challenge(params: list[tuple[str, str]]) -> str:
    """``Bearer name="value", …`` (RFC 9110 §11.6.1 challenge with auth-params)."""
    return "Bearer " + ", ".join(f"{name}={quoted_string(value)}" for name, value in params)


@lru_cache(maxsize=1024)
def www_authenticate(resource: ProtectedResource, error: str | None, description: str | None) -> str:
    """The challenge for ``resource``; parameter order follows the MCP authorization spec's examples.

    - ``error`` None (no credentials, RFC 6750 §3.1): ``resource_metadata``, ``scope`` only;
    - ``insufficient_scope``: ``error``, ``scope``, ``resource_metadata``, ``error_description``;
    - any other error: ``error``, ``error_description``, ``resource_metadata``, ``scope``.
    """
    scope = safe_text(" ".join(resource.scopes), _SCOPE_CHARS)
    metadata = ("resource_metadata", resource.metadata_url)
    if error is None:
        return format_challenge([metadata, ("scope", scope)])
    reason = ("error_description", safe_text(description or ""))
    if error == INSUFFICIENT_SCOPE:
        return format_challenge([("error", error), ("scope", scope), metadata, reason])
    return format_challenge([("error", error), reason, metadata, ("scope", scope)])


@lru_cache(maxsize=256)
def error_body(error: str, description: str) -> bytes:
    """``{"error", "error_description"}`` as JSON bytes, the body the MCP SDK's bearer middleware sends."""
    return json.dumps({"error": error, "error_description": description}).encode()
