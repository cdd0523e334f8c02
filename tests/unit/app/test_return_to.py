"""``return_to`` is honoured only for paths on this origin (open-redirect defence, our own rule)."""

from __future__ import annotations

import pytest

from app.return_to import safe_return_to


@pytest.mark.parametrize(
    "value",
    ["/", "/authorize?client_id=abc&state=x%2Fy", "/consent#top", "/a/b/c", "/path//double"],
)
def test_local_paths_are_kept(value: str) -> None:
    assert safe_return_to(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil.com",
        "///evil.com",
        "https://evil.com",
        "http:/evil.com",
        "javascript:alert(1)",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "/ /evil.com",
        "evil.com",
        "/" + "a" * 5000,
    ],
)
def test_anything_else_falls_back_to_the_root(value: str | None) -> None:
    assert safe_return_to(value) == "/"
