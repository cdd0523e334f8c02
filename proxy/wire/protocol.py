"""Protocol revisions and era routing, decided by the ``MCP-Protocol-Version`` header as the SDK does.

- absent → the handshake era, assumed 2025-03-26 (2025-06-18 transports §Protocol Version Header);
- a handshake revision (2024-11-05 … 2025-11-25) → the handshake era (sessions, GET, DELETE);
- a modern revision (2026-07-28) → the stateless era (POST only, per-request ``_meta`` envelope);
- anything else → 400 with -32022. Such a request is treated as a stateless-era request (as the SDK's
  dual-era server does): ``data.supported`` names the 2026-07-28-era revisions — exactly the
  ``supportedVersions`` of ``server/discover`` (SEP-2575: the error lists the versions the server
  supports for that request) — and the error carries the request's id when the body has one.
  Handshake-era clients always send a known revision (or none) and never reach this.
"""

from __future__ import annotations

import enum
from typing import Final

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from proxy.wire.errors import UnsupportedProtocolVersionError

PROTOCOL_VERSION_HEADER: Final = "mcp-protocol-version"
SESSION_ID_HEADER: Final = "mcp-session-id"
LAST_EVENT_ID_HEADER: Final = "last-event-id"
DEFAULT_HANDSHAKE_VERSION: Final = "2025-03-26"
SUPPORTED_VERSIONS: Final = (*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS)
DISCOVERABLE_VERSIONS: Final = tuple(MODERN_PROTOCOL_VERSIONS)
# JSON-RPC batches on the Streamable HTTP transport existed only in 2025-03-26 (removed in 2025-06-18).
_BATCH_VERSIONS: Final = frozenset({"2024-11-05", "2025-03-26"})


class Era(enum.Enum):
    HANDSHAKE = "handshake"
    MODERN = "modern"


def era_for(header: str | None) -> Era:
    """The era a request belongs to, from its ``MCP-Protocol-Version`` header.

    Raises:
        UnsupportedProtocolVersionError: the header names a revision Portico does not serve.
    """
    if header is None or header in HANDSHAKE_PROTOCOL_VERSIONS:
        return Era.HANDSHAKE
    if header in MODERN_PROTOCOL_VERSIONS:
        return Era.MODERN
    raise unsupported_version(header)


def unsupported_version(requested: str) -> UnsupportedProtocolVersionError:
    return UnsupportedProtocolVersionError(
        "Unsupported protocol version",
        data={"supported": list(DISCOVERABLE_VERSIONS), "requested": requested},
    )


def allows_batches(version: str) -> bool:
    """Whether a handshake-era revision lets one POST carry a JSON-RPC batch."""
    return version in _BATCH_VERSIONS


def is_modern(version: str) -> bool:
    return version in MODERN_PROTOCOL_VERSIONS
