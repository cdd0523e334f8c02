"""What a policy decision says: allowed or not, and what decided it (for ``portico policy explain``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Effect = Literal["allow", "deny"]


@dataclass(frozen=True)
class Source:
    """What decided: a rule, the server's static tool filter, or ``policy.default``.

    ``key`` is where it is configured: ``policy.rules[2]``, ``servers.github.tools.exclude``,
    ``servers.github.tools.include`` or ``policy.default``. For a rule, ``rule_name`` is its
    ``name`` (or ``rules[i]``), ``rule_index`` its position and ``subject`` the subject entry that
    matched the principal: ``user 'a@example.com'``, ``domain 'example.com'``,
    ``group 'engineering'``, ``client '…'`` or ``everyone``.
    """

    key: str
    effect: Effect
    rule_index: int | None = None
    rule_name: str | None = None
    subject: str | None = None

    def describe(self) -> str:
        """One line for people, e.g. ``policy.rules[0] 'eng-write' (allow; matched group 'engineering')``."""
        if self.rule_index is None:
            return f"{self.key} ({self.effect})"
        named = f" {self.rule_name!r}" if self.rule_name != f"rules[{self.rule_index}]" else ""
        return f"{self.key}{named} ({self.effect}; matched {self.subject})"


@dataclass(frozen=True)
class Decision:
    """``allowed`` and the :class:`Source` that decided it."""

    allowed: bool
    source: Source


DEFAULT_ALLOW = Decision(True, Source("policy.default", "allow"))
DEFAULT_DENY = Decision(False, Source("policy.default", "deny"))


def default_decision(default: Effect) -> Decision:
    """The decision of ``policy.default`` when no rule covers a target."""
    return DEFAULT_ALLOW if default == "allow" else DEFAULT_DENY
