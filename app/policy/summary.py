"""What one principal may use on one server, in words: for ``portico policy explain`` and the consent page.

Derived from the same :class:`~app.policy.decide.Standing` as the decisions, one sentence per
kind: ``all tools``, ``no tools``, ``only tools matching get_*, list_*``, ``all tools except
delete_*``, or the ordered steps when allows and denies interleave. The summary describes the
rules; which names the upstream actually offers is known only when it lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.policy.access import TargetKind
from app.policy.decide import Standing, usability
from app.policy.targets import KINDS

_PLURAL: dict[TargetKind, str] = {"tool": "tools", "resource": "resources", "prompt": "prompts"}


@dataclass(frozen=True)
class KindSummary:
    """``text`` for people; ``everything`` / ``nothing`` when every / no name of ``kind`` is allowed."""

    kind: TargetKind
    text: str
    everything: bool
    nothing: bool


def summarize(standing: Standing) -> tuple[KindSummary, ...]:
    """One :class:`KindSummary` per kind (tools, resources, prompts), in that order."""
    usable = usability(standing).allowed
    return tuple(_summary(standing, kind, usable) for kind in KINDS)


def _summary(standing: Standing, kind: TargetKind, usable: bool) -> KindSummary:
    plural = _PLURAL[kind]
    if not usable:
        return KindSummary(kind, f"no {plural}", everything=False, nothing=True)
    steps, terminal = _steps(standing, kind)
    summary = _phrase(kind, steps, terminal)
    if kind == "tool":
        summary = _with_filter(standing, summary)
    return summary


def _steps(standing: Standing, kind: TargetKind) -> tuple[list[tuple[bool, tuple[str, ...]]], bool]:
    """The partial rules for ``kind`` in order, and the effect for every name they do not cover."""
    steps: list[tuple[bool, tuple[str, ...]]] = []
    terminal = standing.default == "allow"
    for rule in standing.applied:
        globs = rule.targets.kind_globs(kind)
        if globs is None:
            continue
        if globs.matches_everything:
            terminal = rule.allows
            break
        steps.append((rule.allows, globs.patterns))
    while steps and steps[-1][0] is terminal:  # a step with the terminal's effect changes nothing at the end
        steps.pop()
    return steps, terminal


def _phrase(kind: TargetKind, steps: list[tuple[bool, tuple[str, ...]]], terminal: bool) -> KindSummary:
    plural = _PLURAL[kind]
    patterns = ", ".join(dict.fromkeys(p for _, globs in steps for p in globs))
    if not steps:
        text = f"all {plural}" if terminal else f"no {plural}"
        return KindSummary(kind, text, everything=terminal, nothing=not terminal)
    if all(allows is not terminal for allows, _ in steps):
        text = f"all {plural} except {patterns}" if terminal else f"only {plural} matching {patterns}"
        return KindSummary(kind, text, everything=False, nothing=False)
    parts = [f"{', '.join(globs)}: {'allowed' if allows else 'not allowed'}" for allows, globs in steps]
    parts.append(f"any other: {'allowed' if terminal else 'not allowed'}")
    return KindSummary(kind, f"{plural} by first match: " + "; ".join(parts), everything=False, nothing=False)


def _with_filter(standing: Standing, summary: KindSummary) -> KindSummary:
    include, exclude = standing.tool_filter.include, standing.tool_filter.exclude
    if summary.nothing or (include is None and exclude is None):
        return summary
    only = f"only tools matching {', '.join(include.patterns)}" if include is not None else "all tools"
    never = f" except {', '.join(exclude.patterns)}" if exclude is not None else ""
    if summary.everything:
        return KindSummary("tool", only + never, everything=False, nothing=False)
    text = f"{summary.text} (and the server's tool filter: {only}{never})"
    return KindSummary("tool", text, everything=False, nothing=False)
