"""One principal's access to one server, decided once and then read per call.

:class:`ServerAccess` is what the gateway caches with a verified token (per token and server):
``usable`` says whether the server may be used at all, :meth:`ServerAccess.allows` whether one
tool, resource (by URI or URI template) or prompt may. Answers are memoised, so after the first
call of a name a check is one dictionary lookup. :class:`AccessPolicy` is what decides them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal, Protocol

from app.policy.principal import Principal

TargetKind = Literal["tool", "resource", "prompt"]
_MEMO_ENTRIES: Final = 4096


class ServerAccess:
    """What one principal may use on one server. ``decide(kind, name)`` is consulted once per name."""

    __slots__ = ("_decide", "_memo", "server", "usable")

    def __init__(self, server: str, *, usable: bool, decide: Callable[[TargetKind, str], bool]) -> None:
        self.server = server
        self.usable = usable
        self._decide = decide
        self._memo: dict[tuple[TargetKind, str], bool] = {}

    def allows(self, kind: TargetKind, name: str) -> bool:
        """True when the target ``name`` of ``kind`` may be listed and used."""
        key = (kind, name)
        allowed = self._memo.get(key)
        if allowed is None:
            allowed = self.usable and self._decide(kind, name)
            if len(self._memo) < _MEMO_ENTRIES:
                self._memo[key] = allowed
        return allowed


class AccessPolicy(Protocol):
    """Decides :class:`ServerAccess` (implemented by the configured ``policy``, docs/policy.md)."""

    @property
    def is_open(self) -> bool:
        """True when everyone may use everything (no rules, no filters, default allow): nothing to check."""
        ...

    def access(self, principal: Principal, server: str) -> ServerAccess:
        """The access of ``principal`` to ``server`` (pure: no I/O)."""
        ...


def allow_all(server: str) -> ServerAccess:
    """Everything allowed on ``server``."""
    return ServerAccess(server, usable=True, decide=lambda _kind, _name: True)
