"""Checks for single RFC 7591 §2 client metadata fields, as found in a metadata document.

Every failure raises ClientMetadataDocumentError whose reason names the field, never its value.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from app.display_names import display_name_problem
from app.uri_syntax import absolute_uri_problem
from oauth.cimd.errors import ClientMetadataDocumentError

MAX_NAME_LENGTH = 200
MAX_URI_LENGTH = 2048
MAX_SCOPE_LENGTH = 1024
LOOPBACK_REDIRECT_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited.
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$")


def invalid(field: str) -> ClientMetadataDocumentError:
    return ClientMetadataDocumentError(f"invalid {field}")


def optional_text(data: dict[str, object], field: str, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """A name shown to users: :func:`app.display_names.display_name_problem` (no control, bidi or
    zero-width characters, no mixed scripts), at most ``max_length`` characters."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or display_name_problem(value, max_length=max_length) is not None:
        raise invalid(field)
    return value


def optional_https_url(data: dict[str, object], field: str) -> str | None:
    """A URL member shown to users or fetched later (``client_uri``, ``logo_uri``, ``jwks_uri``)."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _plain_uri(value):
        raise invalid(field)
    split = urlsplit(value)
    if split.scheme != "https" or not split.hostname or "@" in split.netloc or not _has_valid_port(value):
        raise invalid(field)
    return value


def string_list(data: dict[str, object], field: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A JSON array of strings; absent means ``default``; present but empty is refused."""
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise invalid(field)
    return tuple(str(item) for item in value)


def is_acceptable_redirect_uri(uri: str) -> bool:
    """An absolute ``https`` URI, or ``http`` on a loopback host (RFC 8252 §7.3); never a fragment.

    Loopback hosts are ``127.0.0.1``, ``[::1]`` and ``localhost``. Userinfo is refused, and so is
    anything that is not a strict RFC 3986 absolute URI (:func:`app.uri_syntax.absolute_uri_problem`).
    """
    if not _plain_uri(uri) or absolute_uri_problem(uri) is not None:
        return False
    split = urlsplit(uri)
    host = split.hostname or ""
    if not host or "@" in split.netloc or not _has_valid_port(uri):
        return False
    return split.scheme == "https" or (split.scheme == "http" and host in LOOPBACK_REDIRECT_HOSTS)


def optional_scope(data: dict[str, object]) -> str | None:
    """The ``scope`` member: space-delimited RFC 6749 §3.3 scope tokens."""
    value = data.get("scope")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_SCOPE_LENGTH or not _SCOPE.match(value):
        raise invalid("scope")
    return value


def _plain_uri(value: str) -> bool:
    return 0 < len(value) <= MAX_URI_LENGTH and all(0x21 <= ord(c) <= 0x7E and c != "\\" for c in value)


def _has_valid_port(uri: str) -> bool:
    try:
        urlsplit(uri).port  # noqa: B018 - evaluated for the ValueError it raises
    except ValueError:
        return False
    return True
