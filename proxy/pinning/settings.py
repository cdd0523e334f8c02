"""Each server's pinning settings as the gate uses them (``servers.<name>.pinning`` / ``new_tools``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from app.config.schema import PorticoConfig


@dataclass(frozen=True)
class PinningPolicy:
    """``mode``: ``warn`` serves changed tools with a warning, ``enforce`` holds them; ``hold_new``:
    tools that appear after the baseline wait for approval like changed ones (``new_tools: hold``)."""

    mode: Literal["warn", "enforce"]
    hold_new: bool = False

    @property
    def enforce(self) -> bool:
        return self.mode == "enforce"


def pinned_servers(config: PorticoConfig) -> Mapping[str, PinningPolicy]:
    """The servers whose ``pinning`` is not ``off``, with their policy (empty: no gate at all)."""
    return {
        name: PinningPolicy(mode=spec.pinning, hold_new=spec.new_tools == "hold")
        for name, spec in config.servers.items()
        if spec.pinning != "off"
    }
