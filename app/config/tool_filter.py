"""``servers.<name>.tools``: the static tool filter, the same for everyone (docs/policy.md §Static filter).

A tool is offered only when it matches ``include`` (when given) and matches no ``exclude`` glob;
this is checked before any ``policy`` rule, so no rule can re-allow a filtered tool.
"""

from __future__ import annotations

from pydantic import Field

from app.config.strict import Strict

__all__ = ["ToolFilterConfig"]


class ToolFilterConfig(Strict):
    """``include``: globs a tool must match (None: every tool); ``exclude``: globs it must not match."""

    include: list[str] | None = Field(default=None, min_length=1)
    exclude: list[str] = Field(default_factory=list)

    @property
    def filters(self) -> bool:
        """True when this filter can hide a tool."""
        return self.include is not None or bool(self.exclude)
