"""Whether a rendered credential can be delivered to its upstream at all.

A value goes into an HTTP request header (HTTP upstreams) or into a child's environment or
arguments (stdio). Neither carries control characters: aiohttp refuses CR, LF and NUL in a header,
and ``execve`` refuses NUL. A header value must moreover be an RFC 9110 §5.5 field value; Portico
accepts only its US-ASCII part (visible characters, with single spaces or tabs between them), as
§5.5 asks of new fields: obs-text is obsolete and clients disagree on its encoding.

Checked when a user pastes a token (``/connections``, a clear message instead of storing it) and
when the resolver chooses a stored value (a token stored before this check, or an upstream
authorization server's access token): an undeliverable value counts as not connected, so the
gateway answers ``-32011`` with the connect URL instead of failing the request with a 500.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# RFC 9110 §5.5: field-value = *field-content; field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
_HEADER_VALUE: Final = re.compile(r"[\x21-\x7e](?:[\x20\x09\x21-\x7e]*[\x21-\x7e])?")


def delivery_problem(value: str, *, header: bool) -> str | None:
    """Why ``value`` cannot be sent upstream, or None. The reason never contains the value.

    ``header``: the value goes into an HTTP header (else into a stdio child's environment or args).
    """
    if any(unicodedata.category(character) == "Cc" for character in value):
        return "it contains control characters"
    if header and not _HEADER_VALUE.fullmatch(value):
        return "an HTTP header can carry only visible ASCII characters"
    return None
