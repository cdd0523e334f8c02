"""Tool-definition pinning against rug pulls (issue #16; docs/pinning.md, ADR 0015).

The canonical hash of each tool's definition (:mod:`proxy.pinning.canonical`), its storage
(:mod:`proxy.pinning.store`, table ``tool_definitions``) and the gate the proxy consults on
``tools/list`` and ``tools/call`` (:class:`PinningGate`, the ``ToolGate`` seam).
"""

from __future__ import annotations

from proxy.pinning.errors import TOOL_HELD, ToolHeldError
from proxy.pinning.gate import POLL_SECONDS, PinningGate
from proxy.pinning.settings import PinningPolicy, pinned_servers

__all__ = ["POLL_SECONDS", "TOOL_HELD", "PinningGate", "PinningPolicy", "ToolHeldError", "pinned_servers"]
