"""Which ``client_id`` values are client ID metadata document URLs.

draft-ietf-oauth-client-id-metadata-document-00 §3: the client identifier is an ``https`` URL
with a path component; it MUST NOT contain a fragment, a username or password, or single-dot
or double-dot path segments; it MAY contain a port and SHOULD NOT contain a query.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_CLIENT_ID_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}
# RFC 3986 §5.2.4 dot segments, also when the dot is percent-encoded (§2.3: %2E is equivalent to ".").
_DOT_SEGMENTS = frozenset({".", "..", "%2e", "%2e%2e", ".%2e", "%2e."})
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class ClientIdUrl:
    """A ``client_id`` that passed the §3 checks, split into what the fetcher needs.

    ``host`` is lower case, an IPv6 literal without brackets; ``port`` is explicit or the scheme's
    default; ``host_header`` is the ``Host`` header value (host, bracketed if IPv6, plus any
    non-default port).
    """

    url: str
    scheme: str
    host: str
    port: int
    host_header: str


def is_client_id_url(client_id: str) -> bool:
    """Whether ``client_id`` is a client ID metadata document URL (draft-...-document-00 §3).

    True for an ``https`` URL with a host, a path other than ``/``, and no fragment (not even an
    empty one), no userinfo, no dot segments (``.``, ``..``, or percent-encoded forms), no
    whitespace, control or non-ASCII characters, at most 2048 characters. A query and a port
    are accepted. Any other string (a DCR-issued ``client_id``, say) is False; never raises.
    """
    return parse_client_id_url(client_id) is not None


def parse_client_id_url(client_id: str, *, http_hosts: frozenset[str] = frozenset()) -> ClientIdUrl | None:
    """Parse ``client_id`` per §3, or return None if it is not a metadata document URL.

    ``http_hosts`` (lower-case host names or IP literals) may use plain ``http``: for tests
    against local servers only.
    """
    if not _plain_ascii(client_id) or "#" in client_id:
        return None
    split = urlsplit(client_id)
    scheme = _scheme(client_id)
    host = split.hostname or ""
    if scheme is None or (scheme == "http" and host not in http_hosts):
        return None
    port = _port(split, scheme)
    if port is None or "@" in split.netloc or not _valid_host(host) or not _valid_path(split.path):
        return None
    return ClientIdUrl(client_id, scheme, host, port, _host_header(host, split, scheme))


def _plain_ascii(value: str) -> bool:
    return 0 < len(value) <= MAX_CLIENT_ID_LENGTH and all(0x21 <= ord(c) <= 0x7E and c != "\\" for c in value)


def _scheme(client_id: str) -> str | None:
    for scheme in _DEFAULT_PORTS:
        if client_id.startswith(f"{scheme}://"):
            return scheme
    return None


def _port(split: SplitResult, scheme: str) -> int | None:
    try:
        port = split.port
    except ValueError:
        return None
    if port is None:
        return _DEFAULT_PORTS[scheme]
    return port if port > 0 else None


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _DNS_NAME.match(host) is not None
    return True


def _valid_path(path: str) -> bool:
    if path in ("", "/"):
        return False
    return not any(segment.lower() in _DOT_SEGMENTS for segment in path.split("/"))


def _host_header(host: str, split: SplitResult, scheme: str) -> str:
    name = f"[{host}]" if ":" in host else host
    port = split.port
    return name if port is None or port == _DEFAULT_PORTS[scheme] else f"{name}:{port}"
