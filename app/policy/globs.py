"""Name patterns of the policy: ``fnmatch`` globs, case-sensitive (``fnmatch.fnmatchcase``).

``*`` matches any run of characters (``/`` included, so ``file:///docs/*`` covers every URI
below it), ``?`` one character, ``[seq]`` / ``[!seq]`` one character in / not in ``seq``.
Matching never folds case, on any platform: ``get_*`` does not match ``Get_issue``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable


class Globs:
    """A list of globs compiled into one regular expression; :meth:`matches` is any-of."""

    __slots__ = ("_regex", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        alternatives = "|".join(f"(?:{fnmatch.translate(p)})" for p in self.patterns)
        self._regex = re.compile(alternatives) if self.patterns else None

    def matches(self, name: str) -> bool:
        """True when ``name`` matches one of the patterns (as ``fnmatch.fnmatchcase`` would)."""
        return self._regex is not None and self._regex.match(name) is not None

    @property
    def matches_everything(self) -> bool:
        """True when one pattern is ``*``: every name matches."""
        return "*" in self.patterns

    def __add__(self, other: Globs) -> Globs:
        return Globs(dict.fromkeys(self.patterns + other.patterns))
