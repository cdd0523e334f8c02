"""Driving Portico's authorization server in-process: a signed-in browser, PKCE, the consent form."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from oauth.login.api import SignedInUser
from oauth.pkce import s256_challenge

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
ISSUER = "http://127.0.0.1:8080"
GITHUB = f"{ISSUER}/github/mcp"
JIRA = f"{ISSUER}/jira/mcp"


def alice() -> SignedInUser:
    return SignedInUser(subject="user-alice", email="alice@example.com", name="Alice", login_session_id="ls-alice")


@dataclass
class Browser:
    """Who ``current_user`` returns, and what ``user_may_continue`` answers."""

    user: SignedInUser | None = field(default_factory=alice)
    may_continue: bool = True


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return s256_challenge(self.verifier)


def hidden_input(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert match is not None, f"no hidden input {name!r} on the page"
    return html.unescape(match.group(1))


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


class OAuthFlow:
    """The steps an MCP client and the user's browser take, as plain HTTP calls."""

    def __init__(self, http: httpx2.AsyncClient) -> None:
        self.http = http

    async def register(self, **metadata: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"}
        body.update(metadata)
        response = await self.http.post("/register", json=body)
        assert response.status_code == 201, response.text
        information: dict[str, Any] = response.json()
        return information

    def authorize_params(self, client_id: str, pkce: Pkce, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CLAUDE_CALLBACK,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            "state": "xyz-state",
            "scope": "mcp",
            "resource": GITHUB,
        }
        params.update(overrides)
        return {name: value for name, value in params.items() if value is not None}

    async def authorize(self, client_id: str, pkce: Pkce, **overrides: str | None) -> httpx2.Response:
        return await self.http.get("/authorize", params=self.authorize_params(client_id, pkce, **overrides))

    async def answer(self, consent_page: httpx2.Response, decision: str = "approve", **form: str) -> httpx2.Response:
        assert consent_page.status_code == 200, consent_page.text
        body = {
            "csrf": hidden_input(consent_page.text, "csrf"),
            "state": hidden_input(consent_page.text, "state"),
            "decision": decision,
        }
        body.update(form)
        return await self.http.post("/consent", data=body)

    async def code(self, client_id: str, pkce: Pkce, **overrides: str | None) -> str:
        """Authorize (approving consent when asked) and return the code from the redirect."""
        response = await self.authorize(client_id, pkce, **overrides)
        if response.status_code == 200:
            response = await self.answer(response)
        assert response.status_code == 302, response.text
        return query_of(response.headers["location"])["code"]

    async def exchange(self, client_id: str, code: str, pkce: Pkce, **overrides: str | None) -> httpx2.Response:
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": pkce.verifier,
            "client_id": client_id,
            "redirect_uri": CLAUDE_CALLBACK,
            "resource": GITHUB,
        }
        form.update(overrides)
        return await self.http.post("/token", data={k: v for k, v in form.items() if v is not None})

    async def tokens(self, client_id: str, **overrides: str | None) -> dict[str, Any]:
        pkce = Pkce()
        code = await self.code(client_id, pkce)
        response = await self.exchange(client_id, code, pkce, **overrides)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def refresh(self, client_id: str, refresh_token: str, **overrides: str | None) -> httpx2.Response:
        form: dict[str, str | None] = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        }
        form.update(overrides)
        return await self.http.post("/token", data={k: v for k, v in form.items() if v is not None})

    async def introspect(self, client_id: str, token: str) -> dict[str, Any]:
        response = await self.http.post("/introspect", data={"token": token, "client_id": client_id})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
