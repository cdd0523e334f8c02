"""Plain GETs of an authorization server's public documents over httpx2, failures made uniform.

Metadata (RFC 8414, OpenID Connect Discovery 1.0), JWKS (RFC 7517) and protected resource metadata
(RFC 9728) need no client authentication; token requests and API calls go through Authlib's
client (:mod:`.authlib_client`). :data:`TIMEOUT` is every OAuth client request's timeout.
"""

from __future__ import annotations

from typing import Any

import httpx2

from oauth.client.errors import AuthorizationServerUnavailableError

TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
MAX_DOCUMENT_BYTES = 512 * 1024


async def get_json_object(url: str, what: str, *, transport: httpx2.AsyncBaseTransport | None = None) -> dict[str, Any]:
    """GET ``url`` and return its JSON object. ``what`` names the document in errors; ``transport``
    replaces httpx2's default (e.g. an SSRF-guarded one).

    Raises:
        AuthorizationServerUnavailableError: network failure, a status other than 200, a body over
            512 KiB, or a body that is not a JSON object.
    """
    try:
        async with httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=False, transport=transport) as client:
            response = await client.get(url, headers={"accept": "application/json"})
    except httpx2.HTTPError as error:
        raise AuthorizationServerUnavailableError(f"could not fetch the {what} ({type(error).__name__})") from None
    if response.status_code != 200:
        raise AuthorizationServerUnavailableError(f"the {what} answered HTTP {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise AuthorizationServerUnavailableError(f"the {what} is too large")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise AuthorizationServerUnavailableError(f"the {what} is not a JSON object")
    return document
