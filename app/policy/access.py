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

    __slots__ = ("_decide", "_memo", "_rule_of", "_rules", "server", "usable", "usable_rule")

    def __init__(
        self,
        server: str,
        *,
        usable: bool,
        decide: Callable[[TargetKind, str], bool],
        rule_of: Callable[[TargetKind, str], str] | None = None,
        usable_rule: str | None = None,
    ) -> None:
        """``rule_of`` / ``usable_rule``: the key of what decided a name / the server's usability
        (``policy.rules[2]``, ``policy.default``, ``servers.x.tools.exclude``), for records; optional."""
        self.server = server
        self.usable = usable
        self.usable_rule = usable_rule
        self._decide = decide
        self._rule_of = rule_of
        self._memo: dict[tuple[TargetKind, str], bool] = {}
        self._rules: dict[tuple[TargetKind, str], str] = {}

    def allows(self, kind: TargetKind, name: str) -> bool:
        """True when the target ``name`` of ``kind`` may be listed and used."""
        key = (kind, name)
        allowed = self._memo.get(key)
        if allowed is None:
            allowed = self.usable and self._decide(kind, name)
            if len(self._memo) < _MEMO_ENTRIES:
                self._memo[key] = allowed
        return allowed

    def rule(self, kind: TargetKind, name: str) -> str | None:
        """The key of what decides ``name`` (the server's usability first), or None when unknown.
        Memoised apart from :meth:`allows`, whose warm path it leaves alone (read only by observers)."""
        if not self.usable or self._rule_of is None:
            return self.usable_rule
        key = (kind, name)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rule_of(kind, name)
            if len(self._rules) < _MEMO_ENTRIES:
                self._rules[key] = rule
        return rule


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
