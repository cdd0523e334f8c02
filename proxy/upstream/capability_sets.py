"""Which upstream session a client session may share: one per distinct set of client capabilities.

An MCP server learns the client's capabilities once, at ``initialize`` (2025-11-25
basic/lifecycle.mdx §Capability Negotiation), and may shape everything after it on them — e.g.
the reference server lists its elicitation and sampling tools only to a client that declared
``elicitation`` / ``sampling``. A message upstream (stdio, legacy SSE) is initialized by Portico
once and then shared by the user's client sessions; sharing it across different capability sets
would give every later session the first session's capabilities. So the pool key carries
:func:`capability_set`: sessions share an upstream session only when they declared exactly the
same capabilities (ADR 0007).
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

_DIGEST_CHARS: Final = 16


def capability_set(capabilities: object) -> str:
    """A short, stable name for a ``ClientCapabilities`` object (anything else counts as ``{}``).

    Equal objects — whatever their key order — give equal names: the SHA-256 of their canonical
    JSON (sorted keys, no spaces), 16 hex characters. Values are not interpreted, so a change in
    any sub-capability (``elicitation.url``, ``sampling.tools``, ``roots.listChanged``) is a
    different set.
    """
    value = capabilities if isinstance(capabilities, dict) else {}
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_DIGEST_CHARS]
