"""``${VAR}`` and ``${VAR:-default}`` expansion of configuration strings from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.config.errors import ConfigProblem

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_tree(node: Any, env: Mapping[str, str], path: str = "") -> tuple[Any, list[ConfigProblem]]:
    """Return a copy of a parsed YAML tree with every string expanded.

    ``$$`` stands for a literal ``$``. A reference to an unset variable without a default is a
    problem at that key path; the value of a variable is never part of a message.
    """
    if isinstance(node, str):
        return _expand_string(node, env, path)
    if isinstance(node, dict):
        out: dict[Any, Any] = {}
        problems: list[ConfigProblem] = []
        for key, value in node.items():
            out[key], found = expand_tree(value, env, _join(path, str(key)))
            problems.extend(found)
        return out, problems
    if isinstance(node, list):
        items: list[Any] = []
        problems = []
        for index, value in enumerate(node):
            expanded, found = expand_tree(value, env, _join(path, str(index)))
            items.append(expanded)
            problems.extend(found)
        return items, problems
    return node, []


def _expand_string(text: str, env: Mapping[str, str], path: str) -> tuple[str, list[ConfigProblem]]:
    problems: list[ConfigProblem] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        problems.append(ConfigProblem(path, f"environment variable {name} is not set (write ${{{name}:-default}})"))
        return ""

    return _REFERENCE.sub(replace, text), problems


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
