"""Getting tokens from a running ``portico serve`` over plain HTTP: the dev sign-in form, consent, /token.

No browser: the same requests a browser makes (cookies kept by the client), for tests that need a
real user with real tokens in a separate Portico process (e.g. ``portico users disable``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx2

from tests.support.oauth import CLAUDE_CALLBACK, Pkce, hidden_input, query_of

DEV_PROVIDER = {"type": "dev", "id": "dev", "display_name": "Developer sign-in"}


async def sign_in_and_get_tokens(http: httpx2.AsyncClient, email: str, resource: str) -> tuple[str, dict[str, Any]]:
    """Register a public client, sign in as ``email`` with the dev form, approve, exchange the code.

    ``http`` has the Portico's ``base_url``. Returns the client id and the RFC 6749 §5.1 token body.
    """
    pkce = Pkce()
    client_id, page = await authorize_as(http, email, resource, pkce)
    assert page.status_code == 200, page.text
    answer = {"csrf": hidden_input(page.text, "csrf"), "state": hidden_input(page.text, "state"), "decision": "approve"}
    redirect = await http.post("/consent", data=answer)
    assert redirect.status_code in (302, 303) and redirect.headers["location"].startswith(CLAUDE_CALLBACK), (
        redirect.text
    )
    code = query_of(redirect.headers["location"])["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "client_id": client_id,
        "redirect_uri": CLAUDE_CALLBACK,
        "resource": resource,
    }
    response = await http.post("/token", data=exchange)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return client_id, tokens


async def authorize_as(
    http: httpx2.AsyncClient, email: str, resource: str, pkce: Pkce, **extra: str
) -> tuple[str, httpx2.Response]:
    """Register a public client, ask ``/authorize`` for ``resource`` (with ``extra`` parameters) and sign
    in as ``email`` with the dev form when asked; the client id and the response the redirects end at
    (the consent page; the 403 page when the policy refuses; a redirect off Portico)."""
    registered = await http.post(
        "/register", json={"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"}
    )
    assert registered.status_code == 201, registered.text
    client_id: str = registered.json()["client_id"]
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLAUDE_CALLBACK,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "scope": "mcp",
        "resource": resource,
        **extra,
    }
    page = await _follow(http, await http.get("/authorize", params=params))
    if 'name="email"' in page.text:  # the dev sign-in form
        form = {
            "email": email,
            "csrf_token": hidden_input(page.text, "csrf_token"),
            "return_to": hidden_input(page.text, "return_to"),
        }
        page = await _follow(http, await http.post(str(page.url), data=form))
    return client_id, page


async def _follow(http: httpx2.AsyncClient, response: httpx2.Response) -> httpx2.Response:
    """Follow redirects that stay on Portico; return the response where they end (a page, or a redirect away)."""
    for _ in range(10):
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307) or location is None or location.startswith(CLAUDE_CALLBACK):
            return response
        response = await http.get(urljoin(str(response.url), location))
    raise AssertionError("too many redirects")
