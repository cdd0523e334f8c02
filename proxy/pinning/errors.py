"""The JSON-RPC error a held tool's ``tools/call`` gets (issue #16; docs/pinning.md).

-32013, in an HTTP 200 like every tool-call refusal a client must show (a 403 would make SDK
clients start step-up authorization). ``data`` names the server, the tool and the reason; the
message names the command that approves it.
"""

from __future__ import annotations

from typing import Literal

from proxy.wire.errors import GatewayError

TOOL_HELD = -32013
"""Portico's code for a tool whose definition awaits an administrator's approval."""

HoldReason = Literal["changed", "new"]


class ToolHeldError(GatewayError):
    """``tools/call`` of a tool whose current definition is not approved (pinning ``enforce``)."""

    code = TOOL_HELD
    http_status = 200

    def __init__(self, server: str, tool: str, reason: HoldReason) -> None:
        what = "changed since it was approved" if reason == "changed" else "is new on this server"
        super().__init__(
            f"Tool {tool!r} of server {server!r} {what} and awaits an administrator's approval: "
            f"portico tools approve {server} {tool}",
            data={"server": server, "tool": tool, "reason": f"tool_{reason}"},
        )
