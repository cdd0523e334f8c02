"""What of one server a rule covers, and the server's static tool filter."""

from __future__ import annotations

from collections.abc import Mapping

from app.config.policy import PolicyTargetsConfig
from app.config.tool_filter import ToolFilterConfig
from app.policy.access import TargetKind
from app.policy.decision import Decision, Source
from app.policy.globs import Globs

KINDS: tuple[TargetKind, ...] = ("tool", "resource", "prompt")


class Targets:
    """A rule's targets on one server: the whole server, or glob lists per kind.

    ``patterns`` is None for the whole server; otherwise it maps each listed kind to its globs
    (a kind not listed is not covered).
    """

    __slots__ = ("patterns",)

    def __init__(self, patterns: Mapping[TargetKind, Globs] | None) -> None:
        self.patterns = patterns

    @classmethod
    def from_config(cls, entry: PolicyTargetsConfig) -> Targets:
        """Compile one ``servers.<name>`` entry of a rule."""
        if entry.whole_server:
            return cls(None)
        listed = {"tool": entry.tools, "resource": entry.resources, "prompt": entry.prompts}
        return cls({kind: Globs(globs) for kind, globs in listed.items() if globs is not None})  # type: ignore[misc]

    @property
    def whole_server(self) -> bool:
        """True when every tool, resource and prompt is covered."""
        return self.patterns is None

    def covers(self, kind: TargetKind, name: str) -> bool:
        """True when the target ``name`` of ``kind`` is covered."""
        if self.patterns is None:
            return True
        globs = self.patterns.get(kind)
        return globs is not None and globs.matches(name)

    def kind_globs(self, kind: TargetKind) -> Globs | None:
        """The globs for ``kind`` (``*`` for the whole server), or None when ``kind`` is not covered."""
        if self.patterns is None:
            return Globs(["*"])
        return self.patterns.get(kind)

    def __or__(self, other: Targets) -> Targets:
        """The union (a rule naming one server twice, e.g. by name and by a glob)."""
        if self.patterns is None or other.patterns is None:
            return Targets(None)
        merged = dict(self.patterns)
        for kind, globs in other.patterns.items():
            merged[kind] = merged[kind] + globs if kind in merged else globs
        return Targets(merged)


class ToolFilter:
    """``servers.<name>.tools``: ``include`` / ``exclude`` globs, the same for everyone."""

    __slots__ = ("exclude", "include", "server")

    def __init__(self, server: str, config: ToolFilterConfig | None) -> None:
        self.server = server
        self.include = Globs(config.include) if config is not None and config.include is not None else None
        self.exclude = Globs(config.exclude) if config is not None and config.exclude else None

    def refusal(self, tool: str) -> Decision | None:
        """The denial when ``tool`` is filtered out, else None (the rules decide)."""
        if self.include is not None and not self.include.matches(tool):
            return Decision(False, Source(f"servers.{self.server}.tools.include", "deny"))
        if self.exclude is not None and self.exclude.matches(tool):
            return Decision(False, Source(f"servers.{self.server}.tools.exclude", "deny"))
        return None
