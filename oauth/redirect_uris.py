"""Redirect URIs: what may be registered, and how a requested one is matched.

- Matching is exact string comparison against the registered values (OAuth 2.1 §2.3.1), except
  for loopback redirects (``127.0.0.1``, ``[::1]``, ``localhost``) whose port is ignored
  (RFC 8252 §7.3): native apps listen on an ephemeral port.
- Registrable URIs are strict RFC 3986 absolute URIs (:mod:`app.uri_syntax`: no controls, spaces,
  backslashes, percent-encoded or numeric-looking hosts, so browsers read the same host), ``https``
  with a host or ``http`` on a loopback host; never a fragment or userinfo (MCP authorization
  §Communication Security; RFC 6749 §3.1.2).
- Administrators may narrow the registrable set with ``oauth.allowed_redirect_uris`` patterns,
  where ``*`` matches any run of characters other than ``/``, ``?`` and ``#``; a loopback URI is
  matched with its port removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit, urlunsplit

from app.uri_syntax import absolute_uri_problem

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_LENGTH = 2000


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError:
        return None
    return parts


def is_loopback_redirect(uri: str) -> bool:
    parts = _split(uri)
    return parts is not None and parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact match, or the same loopback URI on another port (RFC 8252 §7.3)."""
    if registered == requested:
        return True
    if not (is_loopback_redirect(registered) and is_loopback_redirect(requested)):
        return False
    return _without_port(registered) == _without_port(requested)


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be registered, or None when it may (RFC 7591 §3.2.2 ``invalid_redirect_uri``)."""
    syntax = absolute_uri_problem(uri)
    if syntax is not None:
        return f"redirect URIs {syntax}"
    parts = _split(uri) if isinstance(uri, str) and len(uri) <= MAX_LENGTH else None
    if parts is None or not parts.hostname:
        return "redirect URIs must be absolute URLs"
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return None
    return "redirect URIs must use https, or http on a loopback host"


def allowed_by_patterns(uri: str, patterns: Sequence[str]) -> bool:
    """True when no patterns are configured or ``uri`` matches one of them."""
    if not patterns:
        return True
    candidate = _without_port(uri) if is_loopback_redirect(uri) else uri
    return any(_compile(pattern).fullmatch(candidate) for pattern in patterns)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = urlsplit(pattern)
    if parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS:
        pattern = _without_port(pattern)
    return re.compile("[^/?#]*".join(re.escape(piece) for piece in pattern.split("*")))


def _without_port(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
