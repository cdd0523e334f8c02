"""The one decision function: every list filter, call check, consent page and explain goes through it.

For one principal and one server (a :class:`Standing`, computed once per token and server):

1. A tool the server's static filter (``servers.<name>.tools``) refuses is denied, whatever the rules.
2. Otherwise the first rule that applies to the principal and covers the target decides (first
   match wins; rule order is the file's order).
3. Otherwise ``policy.default`` decides.

``usable`` (:func:`usability`) says whether anything on the server may be allowed: the first
applicable rule covering the whole server decides it if it allows, or if it denies with no
applicable ``allow`` rule before it; without such a rule the server is usable under default allow,
and under default deny only when some applicable rule allows part of it. So when ``usable`` is
false, every target is denied by step 2 or 3 (tests/unit/app/policy/test_usable.py proves it on
random rule sets). ``usable`` may be true while the rules end up allowing nothing (e.g. an
``allow`` for ``get_*`` shadowed by an earlier ``deny`` for ``*``): it never hides an allowed
target, and a server with nothing allowed lists nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.policy.access import TargetKind
from app.policy.decision import Decision, Effect, default_decision
from app.policy.rules import AppliedRule
from app.policy.targets import ToolFilter


@dataclass(frozen=True)
class Standing:
    """What decides for one principal on one server: its applicable rules, the filter and the default."""

    server: str
    applied: tuple[AppliedRule, ...]
    tool_filter: ToolFilter
    default: Effect


def decide(standing: Standing, kind: TargetKind, name: str) -> Decision:
    """Whether the target ``name`` of ``kind`` (tool name, resource URI or URI template, prompt name) is allowed."""
    if kind == "tool":
        refused = standing.tool_filter.refusal(name)
        if refused is not None:
            return refused
    for rule in standing.applied:
        if rule.targets.covers(kind, name):
            return Decision(rule.allows, rule.source)
    return default_decision(standing.default)


def usability(standing: Standing) -> Decision:
    """Whether the server may be used at all, and the rule (or default) that settled it."""
    first_allow: AppliedRule | None = None
    for rule in standing.applied:
        if rule.targets.whole_server:
            if rule.allows:
                return Decision(True, rule.source)
            if first_allow is not None:
                return Decision(True, first_allow.source)
            return Decision(False, rule.source)
        if rule.allows and first_allow is None:
            first_allow = rule
    if standing.default == "deny" and first_allow is not None:
        return Decision(True, first_allow.source)
    return default_decision(standing.default)
