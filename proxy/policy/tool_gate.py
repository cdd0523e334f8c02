"""The seam between the policy guard and tool-definition pinning (issue #16; implemented by the pinning package).

The guard calls a :class:`ToolGate` when one is configured: on a ``tools/list`` result it first lets
the gate :meth:`~ToolGate.observe` the upstream's full list (before any policy filtering) and then
removes the tools the gate hides together with the tools the policy denies; on ``tools/call`` it
asks :meth:`~ToolGate.refusal` after the policy check. The implementation must not import
:mod:`proxy.policy`: structural typing is enough.
"""

from __future__ import annotations

from typing import Any, Protocol

from proxy.wire.errors import GatewayError


class ToolGate(Protocol):
    async def observe(self, server: str, tools: list[dict[str, Any]]) -> frozenset[str]:
        """Record the upstream's tools/list ``tools`` (unfiltered, as the upstream sent them);
        return the names to hide from this listing. Cheap when the same content was seen before."""
        ...

    def refusal(self, server: str, tool: str) -> GatewayError | None:
        """None when ``tool`` may be called; else the error to answer (a dict lookup, no I/O)."""
        ...
