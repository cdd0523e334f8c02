"""Strict absolute-URI syntax (RFC 3986 §3, §4.3) that every URL parser reads the same way.

Python's ``urlsplit`` and browsers' WHATWG URL parser disagree on inputs RFC 3986 forbids: the
WHATWG parser drops tab/CR/LF, trims leading and trailing C0 controls and spaces, reads ``\\`` as
``/`` in ``http(s)`` URLs, percent-decodes hosts and reads hosts ending in a number (``0x7f.1``)
as IPv4 addresses. A URI that passes :func:`absolute_uri_problem` has none of these, so the host
Portico shows on its consent page is the host a browser will go to.
"""

from __future__ import annotations

import ipaddress
import re

# RFC 3986 §2: unreserved / reserved / pct-encoded; nothing else (no space, "\", "<", "^", "{", controls, non-ASCII).
_URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# RFC 3986 §3.2.2 reg-name without pct-encoded (WHATWG decodes it), as DNS labels.
_REG_NAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9])?)*\.?"
)
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")
_DOTTED_DECIMAL = re.compile(
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
)
MAX_LENGTH = 2000


def absolute_uri_problem(uri: object, *, allow_fragment: bool = False) -> str | None:
    """Why ``uri`` is not a strict absolute URI with an authority (``scheme://host[:port]/…``), or None.

    Refused: non-strings, over :data:`MAX_LENGTH` characters, any character outside RFC 3986 §2
    (controls, space, ``\\``, non-ASCII), a malformed ``%``, a fragment (unless
    ``allow_fragment``), userinfo, an empty or percent-encoded host, a host whose last label is a
    number but which is not a dotted-decimal IPv4 address, an invalid IP literal, a bad port.
    The reason is a fixed phrase; it never repeats the URI.
    """
    if not isinstance(uri, str) or not 0 < len(uri) <= MAX_LENGTH:
        return "must be a URI of at most 2000 characters"
    if not _URI_CHARACTERS.fullmatch(uri):
        return "must contain only RFC 3986 characters (no spaces, controls, backslashes or non-ASCII)"
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return "must be an absolute URI with a scheme"
    if "#" in rest and not allow_fragment:
        return "must not contain a fragment"
    if not rest.startswith("//"):
        return "must have an authority (scheme://host)"
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    return _authority_problem(authority)


def _authority_problem(authority: str) -> str | None:
    if "@" in authority:
        return "must not contain userinfo"
    host, port = _host_and_port(authority)
    if port is not None and (not port.isdigit() or int(port) > 65535):
        return "must have a valid port"
    if host.startswith("["):
        return None if _is_ip_literal(host) else "must have a valid IP literal host"
    if not host or not _REG_NAME.fullmatch(host):
        return "must have a host name made of letters, digits, hyphens and dots"
    last_label = host.rstrip(".").rpartition(".")[2]
    if _NUMERIC_LABEL.fullmatch(last_label) and not _DOTTED_DECIMAL.fullmatch(host):
        return "must have a host that is a name or a dotted-decimal IPv4 address"
    return None


def _host_and_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, bracket, after = authority.partition("]")
        if not bracket:
            return authority, None
        return host + bracket, (after[1:] if after.startswith(":") else (None if not after else after))
    host, colon, port = authority.partition(":")
    return host, (port if colon else None)


def _is_ip_literal(host: str) -> bool:
    inner = host[1:-1] if host.endswith("]") else ""
    try:
        return isinstance(ipaddress.ip_address(inner), ipaddress.IPv6Address)
    except ValueError:
        return False
