"""The canonical form and hash of one tool definition (issue #16, tool-definition pinning).

A definition is the six fields of an MCP ``Tool`` (2025-11-25 schema, ``tools/list`` result) that
shape what a model reads or sends: :data:`DEFINITION_FIELDS`. Everything else (``_meta``, ``icons``,
``execution``, unknown extensions) is left out, so an upstream that only changes an icon is not a
"change". An absent field and a field whose value is ``null`` are the same (both left out of the
canonical form), so an upstream that starts sending ``"title": null`` is not a change either.

The canonical JSON is RFC 8785 (JCS) for the values MCP tool definitions carry: object keys sorted
by their UTF-16 code units, no whitespace, strings as UTF-8 with only the escapes JSON requires.
Numbers are serialized by Python's ``json`` (integers as integers, floats by ``repr``); JCS's
ECMAScript number form differs only for floats such as ``1e+21`` vs ``1e21`` or ``1.0`` vs ``1``,
which never occur in practice in tool schemas and would at worst count as a change once
(docs/adr/0015-tool-definition-pinning.md). The hash is SHA-256 of those UTF-8 bytes, in hex.
"""

from __future__ import annotations

import hashlib
import json
import pickle  # noqa: S403 - only dumps (a cache key), never loads
import re
from collections.abc import Mapping, Sequence
from typing import Any

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

DEFINITION_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
"""The fields of a tool that its definition hash covers, and no others."""


def tool_definition(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The pinned part of one ``tools/list`` entry: :data:`DEFINITION_FIELDS` that are present and not null."""
    return {field: tool[field] for field in DEFINITION_FIELDS if tool.get(field) is not None}


def canonical_json(value: object) -> str:
    """``value`` as RFC 8785 canonical JSON text (keys sorted by UTF-16 code units, no whitespace)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True)
    if _ASTRAL.search(text) is None:
        return text  # code-point order is UTF-16 order when no character lies above U+FFFF
    return json.dumps(_sorted(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def definition_hash(tool: Mapping[str, Any]) -> str:
    """SHA-256 (hex, 64 characters) of the canonical JSON of :func:`tool_definition`."""
    return hash_of(canonical_json(tool_definition(tool)))


def hash_of(canonical: str) -> str:
    """SHA-256 (hex) of canonical JSON text, as UTF-8."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def listing_digest(tools: Sequence[object]) -> str:
    """A cheap fingerprint of a whole ``tools`` array as it arrived (key order included): the cache key.

    SHA-256 of its pickle (a faithful serialization, ~4x faster than JSON text here): equal content
    gives equal bytes, so a repeated listing hits the cache; where it does not (a reordered list,
    different object sharing) it merely misses, and the definitions are hashed again.
    """
    try:
        data = pickle.dumps(tools, protocol=5)
    except (pickle.PicklingError, TypeError, ValueError, AttributeError):
        data = json.dumps(tools, separators=(",", ":"), default=repr).encode()
    return hashlib.sha256(data).hexdigest()


def pretty_json(text: str) -> str:
    """A stored canonical definition, indented for ``portico tools diff`` (keys stay sorted)."""
    return json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _sorted(value: object) -> object:
    # JCS sorts member names by UTF-16 code units, which differs from Python's code-point order
    # only for characters above U+FFFF against those in U+E000..U+FFFF.
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value, key=lambda k: _utf16_key(str(k)))}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value
