"""The compiled rules: per server, the rules that name it, in order, built once from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from app.config.policy import PolicyConfig, PolicyRuleConfig, is_glob
from app.policy.decision import Effect, Source
from app.policy.principal import Principal
from app.policy.subjects import Subjects
from app.policy.targets import Targets


@dataclass(frozen=True)
class Rule:
    """``policy.rules[index]`` with its subjects compiled."""

    index: int
    label: str
    effect: Effect
    subjects: Subjects
    config: PolicyRuleConfig

    def targets_on(self, server: str) -> Targets | None:
        """What this rule covers on ``server`` (every entry naming it, by name or glob), or None."""
        found = [Targets.from_config(t) for name, t in self.config.servers.items() if _names(name, server)]
        if not found:
            return None
        merged = found[0]
        for targets in found[1:]:
            merged = merged | targets
        return merged


@dataclass(frozen=True)
class ServerRule:
    """One rule as it applies to one server."""

    rule: Rule
    targets: Targets


@dataclass(frozen=True)
class AppliedRule:
    """A rule that names the server and whose subjects match the principal (``subject`` says how)."""

    targets: Targets
    source: Source

    @property
    def allows(self) -> bool:
        """True for an ``allow`` rule."""
        return self.source.effect == "allow"


def compile_rules(policy: PolicyConfig) -> tuple[Rule, ...]:
    """Every rule of ``policy``, in order."""
    return tuple(
        Rule(index=i, label=r.label(i), effect=r.effect, subjects=Subjects(r), config=r)
        for i, r in enumerate(policy.rules)
    )


def rules_for_server(rules: tuple[Rule, ...], server: str) -> tuple[ServerRule, ...]:
    """The rules that name ``server``, in order, with what each covers there."""
    found: list[ServerRule] = []
    for rule in rules:
        targets = rule.targets_on(server)
        if targets is not None:
            found.append(ServerRule(rule, targets))
    return tuple(found)


def applied_rules(server_rules: tuple[ServerRule, ...], principal: Principal) -> tuple[AppliedRule, ...]:
    """The rules of one server that apply to ``principal``, in order."""
    applied: list[AppliedRule] = []
    for entry in server_rules:
        subject = entry.rule.subjects.match(principal)
        if subject is not None:
            rule = entry.rule
            source = Source(f"policy.rules[{rule.index}]", rule.effect, rule.index, rule.label, subject)
            applied.append(AppliedRule(entry.targets, source))
    return tuple(applied)


def _names(pattern: str, server: str) -> bool:
    return fnmatchcase(server, pattern) if is_glob(pattern) else pattern == server
