"""Naming a set of client capabilities for the upstream pool key (ADR 0007, issue #14 finding 6)."""

from __future__ import annotations

from proxy.upstream.capability_sets import capability_set


def test_equal_capabilities_in_any_key_order_name_the_same_set() -> None:
    one: dict[str, object] = {"sampling": {"tools": {}}, "elicitation": {"form": {}, "url": {}}}
    two: dict[str, object] = {"elicitation": {"url": {}, "form": {}}, "sampling": {"tools": {}}}
    assert capability_set(one) == capability_set(two)
    assert len(capability_set(one)) == 16


def test_any_difference_in_a_sub_capability_is_another_set() -> None:
    assert capability_set({"elicitation": {}}) != capability_set({"elicitation": {"url": {}}})
    assert capability_set({}) != capability_set({"roots": {"listChanged": True}})


def test_a_missing_or_malformed_capabilities_value_counts_as_none() -> None:
    assert capability_set(None) == capability_set({}) == capability_set("sampling") == capability_set([])
