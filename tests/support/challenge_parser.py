"""A strict parser for one ``WWW-Authenticate: Bearer`` challenge, for tests (RFC 9110 §11.6.1, §5.6).

``challenge = auth-scheme [ 1*SP #auth-param ]``, ``auth-param = token BWS "=" BWS ( token /
quoted-string )``. Anything else (raw quotes, control characters, duplicate parameters, a second
challenge, trailing garbage) raises ``ValueError``. Parameter names are returned lower-cased.
"""

from __future__ import annotations

import re

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e]|\\[\t \x21-\x7e])*"'
_PARAM = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*({_TOKEN}|{_QUOTED})")
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_bearer_challenge(value: str) -> dict[str, str]:
    """The auth-params of a single ``Bearer`` challenge, unquoted."""
    scheme, space, rest = value.partition(" ")
    if scheme.lower() != "bearer" or not space:
        raise ValueError(f"not a Bearer challenge with parameters: {value!r}")
    params: dict[str, str] = {}
    position = len(rest) - len(rest.lstrip(" "))
    while True:
        match = _PARAM.match(rest, position)
        if match is None:
            raise ValueError(f"malformed auth-param at {position}: {rest[position:]!r}")
        name = match.group(1).lower()
        if name in params:
            raise ValueError(f"duplicate auth-param {name!r}")
        params[name] = _unquote(match.group(2))
        position = match.end()
        if position == len(rest):
            return params
        separator = _SEPARATOR.match(rest, position)
        if separator is None:
            raise ValueError(f"expected ',' at {position}: {rest[position:]!r}")
        position = separator.end()


def _unquote(value: str) -> str:
    if not value.startswith('"'):
        return value
    return _QUOTED_PAIR.sub(r"\1", value[1:-1])
