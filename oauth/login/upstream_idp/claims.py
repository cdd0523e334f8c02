"""Reading identity claims defensively: IdPs differ in types (``"true"`` for true, one group as a string)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_GROUPS = 1000
MAX_NAME_LENGTH = 255


def claim_text(claims: Mapping[str, Any], name: str) -> str | None:
    """A non-empty string claim, stripped; None otherwise."""
    value = claims.get(name)
    return value.strip() or None if isinstance(value, str) else None


def claim_name(claims: Mapping[str, Any], name: str) -> str | None:
    """A display name, cut to 255 characters."""
    value = claim_text(claims, name)
    return value[:MAX_NAME_LENGTH] if value else None


def claim_true(claims: Mapping[str, Any], name: str) -> bool:
    """True only for JSON ``true`` or the string ``"true"`` (any case); absent is false."""
    value = claims.get(name)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def claim_strings(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (non-strings dropped); a single string counts as a one-item list."""
    value = claims.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value[:MAX_GROUPS] if isinstance(item, str) and item)


def plausible_email(value: str | None) -> str | None:
    """``value`` lower-cased when it reads ``local@domain`` (≤ 320 characters, no spaces or controls)."""
    if not value or len(value) > 320 or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in value):
        return None
    local, at, domain = value.rpartition("@")
    return value.lower() if at and local and "." in domain and not domain.startswith(".") else None
