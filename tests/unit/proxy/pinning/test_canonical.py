"""The canonical definition hash: stable under key order and encoding, sensitive to every pinned field."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from proxy.pinning.canonical import DEFINITION_FIELDS, canonical_json, definition_hash, pretty_json, tool_definition

TOOL: dict[str, Any] = {
    "name": "search",
    "title": "Search",
    "description": "Find documents.",
    "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}}},
    "outputSchema": {"type": "object"},
    "annotations": {"readOnlyHint": True},
}


def test_the_hash_is_sha256_hex_of_the_canonical_json() -> None:
    expected = hashlib.sha256(canonical_json(tool_definition(TOOL)).encode()).hexdigest()
    assert definition_hash(TOOL) == expected
    assert len(expected) == 64


def test_canonical_json_sorts_keys_at_every_depth_and_has_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, {"z": 0, "y": None}], "c": "x"}}) == (
        '{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}'
    )


def test_key_order_does_not_change_the_hash() -> None:
    reordered = {key: TOOL[key] for key in reversed(list(TOOL))}
    reordered["inputSchema"] = {"properties": {"limit": {"type": "integer"}, "q": {"type": "string"}}, "type": "object"}
    assert definition_hash(reordered) == definition_hash(TOOL)


def test_unicode_is_hashed_as_utf8_text_not_escapes() -> None:
    tool = {"name": "café", "description": "naïve \u00e9 ✓ 𝄞"}
    assert canonical_json(tool_definition(tool)) == '{"description":"naïve é ✓ 𝄞","name":"café"}'
    decomposed = {"name": "café", "description": "nai\u0308ve e\u0301 ✓ 𝄞"}
    # No Unicode normalisation: a different code point sequence is a different definition.
    assert definition_hash(decomposed) != definition_hash(tool)


def test_member_names_sort_by_utf16_code_units_as_rfc_8785_says() -> None:
    # U+1D11E (a surrogate pair in UTF-16) sorts before U+FFFD there, after it by code point.
    assert canonical_json({"\ufffd": 1, "\U0001d11e": 2}) == '{"𝄞":2,"\ufffd":1}'


def test_absent_and_null_fields_are_the_same_definition() -> None:
    assert definition_hash({"name": "a", "title": None, "annotations": None}) == definition_hash({"name": "a"})


def test_fields_outside_the_definition_do_not_count() -> None:
    decorated = {
        **TOOL,
        "_meta": {"x": 1},
        "icons": [{"src": "https://e/i.png"}],
        "execution": {"taskSupport": "optional"},
    }
    assert definition_hash(decorated) == definition_hash(TOOL)


@pytest.mark.parametrize("field", DEFINITION_FIELDS)
def test_a_change_in_any_pinned_field_changes_the_hash(field: str) -> None:
    changed = {**TOOL, field: "something else"}
    assert definition_hash(changed) != definition_hash(TOOL)


def test_a_nested_schema_change_changes_the_hash() -> None:
    changed = {**TOOL, "inputSchema": {**TOOL["inputSchema"], "required": ["q"]}}
    assert definition_hash(changed) != definition_hash(TOOL)


def test_a_fixed_vector_keeps_the_hash_stable_across_releases() -> None:
    tool = {"name": "echo", "description": "Echo ✓", "inputSchema": {"type": "object"}}
    text = '{"description":"Echo ✓","inputSchema":{"type":"object"},"name":"echo"}'
    assert canonical_json(tool_definition(tool)) == text
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == _ECHO_HASH
    assert definition_hash(tool) == _ECHO_HASH


_ECHO_HASH = "4016dfb455fd8d445d61ae24842b1bfdd91efed65eb19c1cf10d02f9ab0ca6c2"


def test_pretty_json_indents_a_stored_definition() -> None:
    assert pretty_json('{"b":1,"a":"é"}') == '{\n  "a": "é",\n  "b": 1\n}\n'
