"""Parse the configuration file's YAML, refusing a mapping key given twice.

PyYAML's ``safe_load`` keeps the last of two equal keys silently (YAML 1.2 §3.2.1.1 says keys
are unique), so ``servers: {time: …, time: …}`` used to serve only the second ``time``. Here a
repeated key is a :class:`DuplicateKeyError` naming its dotted key path and both lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node


@dataclass(frozen=True)
class DuplicateKey:
    """``key_path`` (dotted, e.g. ``servers.time``) appears at ``first_line`` and again at ``line`` (1-based)."""

    key_path: str
    first_line: int
    line: int


class DuplicateKeyError(yaml.YAMLError):
    """Every repeated key of a document, in file order."""

    def __init__(self, duplicates: list[DuplicateKey]) -> None:
        self.duplicates = duplicates
        super().__init__(f"{len(duplicates)} duplicate key(s)")


class _UniqueKeyLoader(yaml.SafeLoader):
    """``SafeLoader`` plus a pass over the node tree that collects repeated mapping keys."""


def load_unique_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, except that a mapping key given twice anywhere is an error.

    Raises:
        DuplicateKeyError: one or more repeated keys (the whole document is checked first).
        yaml.YAMLError: any other YAML problem.
    """
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates: list[DuplicateKey] = []
        _collect(node, (), duplicates, set())
        if duplicates:
            raise DuplicateKeyError(duplicates)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _collect(node: Node, path: tuple[str, ...], found: list[DuplicateKey], visited: set[int]) -> None:
    if id(node) in visited:  # an alias of a node already checked (or a recursive one)
        return
    visited.add(id(node))
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if not isinstance(key_node.value, list) else "<complex key>"
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                _collect(value_node, path, found, visited)
                continue
            if key in seen:
                found.append(DuplicateKey(".".join((*path, key)), seen[key], line))
            else:
                seen[key] = line
            _collect(value_node, (*path, key), found, visited)
    elif isinstance(node.value, list):
        for index, child in enumerate(node.value):
            if isinstance(child, Node):
                _collect(child, (*path, str(index)), found, visited)
