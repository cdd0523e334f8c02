"""Duplicate mapping keys in the configuration's YAML (issue #14, finding 10; YAML 1.2 §3.2.1.1: keys are unique)."""

from __future__ import annotations

import pytest

from app.config.yaml_source import DuplicateKey, DuplicateKeyError, load_unique_yaml


def test_a_document_without_repeated_keys_loads_as_safe_load_would() -> None:
    assert load_unique_yaml("a: 1\nb: [1, {c: 2}]\n") == {"a": 1, "b": [1, {"c": 2}]}
    assert load_unique_yaml("") is None


def test_every_repeated_key_is_reported_with_its_path_and_both_lines() -> None:
    text = "servers:\n  time:\n    command: a\n  time:\n    command: b\nlist:\n  - {x: 1, x: 2}\n"
    with pytest.raises(DuplicateKeyError) as raised:
        load_unique_yaml(text)
    assert raised.value.duplicates == [DuplicateKey("servers.time", 2, 4), DuplicateKey("list.0.x", 7, 7)]


def test_merge_keys_and_aliases_are_not_duplicates() -> None:
    """A merged mapping's keys may be overridden (YAML merge-key type); a recursive alias terminates."""
    loaded = load_unique_yaml("base: &b {k: 1}\nuse:\n  <<: *b\n  k: 2\nloop: &l [*l]\n")
    assert loaded["use"] == {"k": 2}
