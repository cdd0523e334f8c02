"""Which rendered credentials can be sent upstream (RFC 9110 §5.5 for headers; no controls anywhere)."""

from __future__ import annotations

import pytest

from proxy.credentials.deliverable import delivery_problem


@pytest.mark.parametrize("value", ["Bearer notes_abc123", "x", "!#$%&'*+-.^_`|~"])
def test_visible_ascii_field_values_go_into_headers(value: str) -> None:
    assert delivery_problem(value, header=True) is None


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "a\rb", "a\nb", "a\tb", "a\x1bb", "a\x7fb", "a\x9bb", "Bearer tökén", " leading", "trailing ", ""],
)
def test_controls_non_ascii_and_edge_whitespace_never_go_into_headers(value: str) -> None:
    """Spec-mandated (RFC 9110 §5.5: no CR, LF, NUL, no edge whitespace); no HTAB and ASCII only: our choice."""
    assert delivery_problem(value, header=True) is not None


def test_a_stdio_environment_takes_non_ascii_but_no_controls() -> None:
    """execve refuses NUL; other controls are refused too, for the terminal and the child's parsers."""
    assert delivery_problem("tökén", header=False) is None
    assert delivery_problem("a\x00b", header=False) is not None
    assert delivery_problem("a\x1bb", header=False) is not None


def test_the_reason_never_contains_the_value() -> None:
    problem = delivery_problem("secret-marker\x00", header=True)
    assert problem is not None and "secret-marker" not in problem
