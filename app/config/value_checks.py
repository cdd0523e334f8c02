"""Checks of single values that several sections share: HTTP URLs, header and variable names.

Each check raises ``ValueError`` with the message the configuration error shows at the value's
key path (docs/configuration.md §Errors); no message contains the value of a secret.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["ENV_NAME", "HEADER_NAME", "require_http_url"]

HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
"""An HTTP header name (an RFC 9110 §5.6.2 token), at most 128 characters."""

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
"""An environment variable name such as ``GITHUB_TOKEN``."""


def require_http_url(value: str) -> str:
    """``value`` when it is an absolute http(s) URL with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value
