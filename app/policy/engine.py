"""The configured ``policy`` as an :class:`~app.policy.access.AccessPolicy` (docs/policy.md).

Built once from the configuration: for each configured server, the rules that name it (in
order) and its static tool filter. :meth:`RulePolicy.access` then only picks the rules whose
subjects match the principal (once per token and server); each name is decided once by
:func:`app.policy.decide.decide` and memoised in the :class:`ServerAccess`.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.config.policy import PolicyConfig
from app.config.schema import PorticoConfig
from app.config.tool_filter import ToolFilterConfig
from app.policy.access import ServerAccess, TargetKind
from app.policy.decide import Standing, decide, usability
from app.policy.decision import Decision
from app.policy.principal import Principal
from app.policy.rules import ServerRule, applied_rules, compile_rules, rules_for_server
from app.policy.targets import ToolFilter


class RulePolicy:
    """The rules of ``policy`` and the ``servers.<name>.tools`` filters. Pure: no I/O."""

    def __init__(self, policy: PolicyConfig, tool_filters: Mapping[str, ToolFilterConfig]) -> None:
        self._default = policy.default
        self._rules = compile_rules(policy)
        self._filters = {name: ToolFilter(name, f) for name, f in tool_filters.items()}
        self._servers: dict[str, tuple[ServerRule, ...]] = {
            name: rules_for_server(self._rules, name) for name in tool_filters
        }
        filtered = any(f.filters for f in tool_filters.values())
        self._open = self._default == "allow" and not self._rules and not filtered

    @classmethod
    def from_config(cls, config: PorticoConfig) -> RulePolicy:
        """The policy of a loaded configuration (``policy`` and each ``servers.<name>.tools``)."""
        return cls(config.policy, {name: server.tools for name, server in config.servers.items()})

    @property
    def is_open(self) -> bool:
        """True when there is nothing to check: default allow, no rules, no tool filters."""
        return self._open

    def standing(self, principal: Principal, server: str) -> Standing:
        """The rules of ``server`` that apply to ``principal``, with its filter and the default."""
        server_rules = self._servers.get(server)
        if server_rules is None:  # not a configured server: compiled on demand, not kept
            server_rules = rules_for_server(self._rules, server)
        tool_filter = self._filters.get(server) or ToolFilter(server, None)
        return Standing(server, applied_rules(server_rules, principal), tool_filter, self._default)

    def access(self, principal: Principal, server: str) -> ServerAccess:
        """What ``principal`` may use on ``server``; ``allows`` runs :func:`decide` once per name."""
        standing = self.standing(principal, server)
        usable = usability(standing)
        return ServerAccess(
            server,
            usable=usable.allowed,
            decide=lambda kind, name: decide(standing, kind, name).allowed,
            rule_of=lambda kind, name: decide(standing, kind, name).source.key,
            usable_rule=usable.source.key,
        )

    def explain(
        self, principal: Principal, server: str, kind: TargetKind | None = None, name: str | None = None
    ) -> Decision:
        """The decision and its source: for the target ``name`` of ``kind``, or (both None) for the server.

        For a target this is :func:`decide`, which :meth:`access` also uses (on a server that is
        not usable it denies everything, so ``usable and decide`` is ``decide``); for the server
        it is :func:`usability`.

        Raises:
            ValueError: only one of ``kind`` and ``name`` given.
        """
        if (kind is None) != (name is None):
            raise ValueError("give both kind and name, or neither")
        standing = self.standing(principal, server)
        if kind is None or name is None:
            return usability(standing)
        return decide(standing, kind, name)


_compiled: list[tuple[PorticoConfig, RulePolicy]] = []


def policy_for(config: PorticoConfig) -> RulePolicy:
    """The :class:`RulePolicy` of ``config``, compiled once per configuration object (a reload compiles anew)."""
    if _compiled and _compiled[0][0] is config:
        return _compiled[0][1]
    compiled = RulePolicy.from_config(config)
    _compiled[:] = [(config, compiled)]
    return compiled
