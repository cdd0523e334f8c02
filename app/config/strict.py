"""The base of every configuration model: unknown keys refused, values frozen.

Forbidding unknown keys is what turns a misspelt key into a startup error (with the closest valid
key, docs/configuration.md §Errors) instead of a setting silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """A configuration section: ``extra="forbid"`` and ``frozen=True``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
