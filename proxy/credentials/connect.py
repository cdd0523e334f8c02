"""Where a user connects their credential for a server: the ``/connections`` page, that server highlighted.

The -32011 error of :mod:`proxy.backends.credential_guard` and ``portico credentials explain``
both name this URL (docs/credentials.md, "A missing credential").
"""

from __future__ import annotations

from urllib.parse import urlencode


def connect_url(public_url: str, server: str) -> str:
    """``<public_url>/connections?server=<server>`` (``server`` form-encoded)."""
    return f"{public_url}/connections?{urlencode({'server': server})}"
