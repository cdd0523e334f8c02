"""Lenient scopes: never invalid_scope, always the default set."""

from __future__ import annotations

import pytest

from oauth.scopes import granted_scope


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (None, "mcp"),
        ("", "mcp"),
        ("claudeai", "mcp"),
        ("read write admin", "mcp"),
        ("mcp", "mcp"),
        ("offline_access", "mcp offline_access"),
        ("mcp offline_access profile", "mcp offline_access"),
    ],
)
def test_unknown_or_empty_scopes_map_to_the_default_set(requested: str | None, granted: str) -> None:
    """Our choice (issue rule "scopes are lenient"): odd scope strings are reduced, not refused."""
    assert granted_scope(requested) == granted


def test_a_refresh_cannot_widen_the_original_scope() -> None:
    """Spec-mandated (RFC 6749 §6): the refreshed scope stays within the original grant."""
    assert granted_scope("mcp offline_access", within="mcp") == "mcp"


def test_a_refresh_asking_for_nothing_known_keeps_the_original_scope() -> None:
    assert granted_scope("bogus", within="mcp offline_access") == "mcp offline_access"
