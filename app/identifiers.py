"""Random identifiers that people copy into command lines: subjects and registered ``client_id`` values."""

from __future__ import annotations

import secrets


def command_line_safe_token(nbytes: int) -> str:
    """``nbytes`` random bytes as URL-safe base64 (RFC 4648 §5, unpadded) that never begins with ``-``.

    ``portico policy explain -x…`` would read such a value as an option; redrawing the 1 in 64
    tokens that begin with ``-`` costs log2(64/63) ≈ 0.02 bits of the ``8 * nbytes``.
    """
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token
