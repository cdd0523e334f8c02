"""``policy``: who may use which server, tool, resource and prompt (docs/policy.md).

An ordered list of ``rules``, each with subjects (``users``, ``domains``, ``groups``, ``clients``
or ``everyone: true``), targets (``servers.<name or glob>`` with optional ``tools``,
``resources`` and ``prompts`` glob lists) and an ``effect``; ``default`` decides what no rule
covers. Names in ``servers`` are checked against the configured servers by
:func:`policy_problems` once the whole file is read (the loader calls it). See
docs/configuration.md §``policy`` and ADR 0014.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.config.errors import ConfigProblem
from app.config.strict import Strict
from app.config.suggest import closest_key

__all__ = [
    "GLOB_CHARACTERS",
    "PolicyConfig",
    "PolicyRuleConfig",
    "PolicyTargetsConfig",
    "is_glob",
    "policy_problems",
]

GLOB_CHARACTERS = frozenset("*?[")
"""A pattern containing one of these is a glob (``fnmatch.fnmatchcase`` syntax); otherwise a name."""

Effect = Literal["allow", "deny"]
_SUBJECT_KEYS = ("users", "domains", "groups", "clients")


def is_glob(pattern: str) -> bool:
    """True when ``pattern`` uses glob syntax (``*``, ``?`` or ``[``)."""
    return any(c in GLOB_CHARACTERS for c in pattern)


class PolicyTargetsConfig(Strict):
    """``policy.rules[i].servers.<name>``: what of the server a rule covers.

    No list at all (``github: {}``) covers the whole server; otherwise each present list covers
    the tools, resources (by URI or URI template) or prompts whose name matches one of its globs,
    and the kinds not listed are not covered by this rule.
    """

    tools: list[str] | None = Field(default=None, min_length=1)
    resources: list[str] | None = Field(default=None, min_length=1)
    prompts: list[str] | None = Field(default=None, min_length=1)

    @property
    def whole_server(self) -> bool:
        """True when no kind list is given: every tool, resource and prompt is covered."""
        return self.tools is None and self.resources is None and self.prompts is None


class PolicyRuleConfig(Strict):
    """``policy.rules[i]``: one rule. Any one subject entry matching makes the rule apply."""

    name: str | None = None
    effect: Effect
    users: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    clients: list[str] = Field(default_factory=list)
    everyone: Literal[True] | None = None
    servers: dict[str, PolicyTargetsConfig] = Field(min_length=1)

    @field_validator("users", "domains", "groups", "clients")
    @classmethod
    def _no_wildcard_subject(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not entry.strip():
                raise ValueError("an entry is empty")
            if entry.strip() == "*":
                raise ValueError("'*' is not a subject; say everyone: true")
        return value

    @field_validator("users")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "@" not in entry.strip("@ "):
                raise ValueError(f"{entry!r} is not an email address")
        return value

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "@" in entry:
                raise ValueError(f"{entry!r}: write the domain without '@' (example.com)")
        return value

    @model_validator(mode="after")
    def _one_kind_of_subject(self) -> PolicyRuleConfig:
        listed = [key for key in _SUBJECT_KEYS if getattr(self, key)]
        if self.everyone and listed:
            raise ValueError(f"everyone: true takes no other subjects (remove {', '.join(listed)})")
        if not self.everyone and not listed:
            raise ValueError("a rule needs subjects: users, domains, groups, clients or everyone: true")
        return self

    def label(self, index: int) -> str:
        """How explain names this rule: ``name`` or ``rules[index]``."""
        return self.name or f"rules[{index}]"


class PolicyConfig(Strict):
    """``policy``: ``default`` (``allow``, the quickstart's, or ``deny``) and ordered ``rules``.

    Absent, everyone may use everything (default allow, no rules).
    """

    default: Effect = "allow"
    rules: list[PolicyRuleConfig] = Field(default_factory=list)


def policy_problems(policy: PolicyConfig, servers: Collection[str]) -> list[ConfigProblem]:
    """Each ``policy.rules.<i>.servers.<name>`` that is not a glob and names no configured server.

    The message proposes the closest configured name, as unknown keys do.
    """
    problems: list[ConfigProblem] = []
    valid = sorted(servers)
    for index, rule in enumerate(policy.rules):
        for name in rule.servers:
            if is_glob(name) or name in servers:
                continue
            hint = closest_key(name, valid)
            suffix = f"; did you mean '{hint}'?" if hint else ""
            problems.append(ConfigProblem(f"policy.rules.{index}.servers.{name}", f"no server named {name!r}{suffix}"))
    return problems
