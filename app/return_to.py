"""``return_to``: where the browser goes after signing in. Only paths on this origin are accepted.

Anything that a browser could read as another origin falls back to ``/``: a scheme
(``https://evil.com``), a network-path reference (``//evil.com``), a backslash (browsers treat
``/\\evil.com`` as ``//evil.com``), or control characters and spaces (browsers strip tabs and
newlines, so ``/\\t/evil.com`` would become ``//evil.com``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_RETURN_TO = "/"
MAX_RETURN_TO_LENGTH = 4096


def is_local_path(value: str) -> bool:
    """True when ``value`` is an absolute path (optionally with a query) on this origin."""
    if not value.startswith("/") or value.startswith("//") or len(value) > MAX_RETURN_TO_LENGTH:
        return False
    if "\\" in value or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_return_to(value: str | None) -> str:
    """``value`` when it is a local path, else ``/``."""
    return value if value and is_local_path(value) else DEFAULT_RETURN_TO
