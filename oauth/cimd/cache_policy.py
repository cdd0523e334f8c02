"""How long a fetched metadata document may be reused (draft-...-document-00 §4.4).

The authorization server SHOULD follow HTTP caching (RFC 9111) and MAY clamp the lifetime;
it MUST NOT cache an error or an invalid document (callers only pass responses that validated).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx2


def cache_lifetime(headers: httpx2.Headers, *, min_ttl: float, max_ttl: float) -> float | None:
    """Seconds to keep the document, clamped to ``[min_ttl, max_ttl]``; None means do not store.

    ``Cache-Control: no-store`` (or ``no-cache``, which would demand revalidation on every use)
    → None. Otherwise the freshness lifetime is ``max-age`` minus ``Age`` (RFC 9111 §4.2.1,
    §4.2.3), else ``Expires`` minus ``Date`` when both parse, else ``min_ttl``.
    """
    directives = _cache_control(headers)
    if "no-store" in directives or "no-cache" in directives:
        return None
    max_age = _seconds(directives.get("max-age"))
    if max_age is not None:
        lifetime: float | None = max_age - (_seconds(headers.get("age")) or 0)
    else:
        lifetime = _expires_lifetime(headers)
    return min(max(lifetime if lifetime is not None else min_ttl, min_ttl), max_ttl)


def _cache_control(headers: httpx2.Headers) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    for value in headers.get_list("cache-control", split_commas=True):
        name, _, argument = value.strip().partition("=")
        directives.setdefault(name.strip().lower(), argument.strip().strip('"') or None)
    return directives


def _seconds(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _expires_lifetime(headers: httpx2.Headers) -> float | None:
    try:
        expires = parsedate_to_datetime(headers["expires"])
        date = parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if expires.tzinfo is None or date.tzinfo is None:
        return None
    return (expires - date).total_seconds()
