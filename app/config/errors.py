"""The one exception a broken configuration raises."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigProblem:
    """One finding: where (dotted key path, e.g. ``servers.github.url``) and what is wrong."""

    key_path: str
    message: str


class ConfigError(Exception):
    """A configuration file that cannot be used.

    ``str(error)`` lists every problem as ``FILE: KEY.PATH: message`` lines; it never
    contains a configured value, so secrets cannot leak through it.
    """

    def __init__(self, source: Path | str, problems: list[ConfigProblem]) -> None:
        self.source = str(source)
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.source}: {p.key_path or '(top level)'}: {p.message}" for p in self.problems]
        return "invalid configuration\n" + "\n".join(f"  {line}" for line in lines)
