"""A GitHub stand-in: the OAuth app endpoints and the REST API's ``/user``, ``/user/emails``, ``/user/orgs``.

The API lives under ``/api`` (as GitHub Enterprise Server's ``/api/v3``), so Portico's ``api_base_url``
joining is exercised. ``/user/orgs`` pages with ``Link: <…>; rel="next"`` headers (RFC 8288), absolute
URLs on ``link_origin`` (the stand-in's own origin unless a test points it elsewhere).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.oauth.login.standins.authorization import AuthorizationServer, Grant

CLIENT_ID = "Iv1.portico"
CLIENT_SECRET = "github-stand-in-secret"


def email(address: str, *, primary: bool = False, verified: bool = True) -> dict[str, Any]:
    return {"email": address, "primary": primary, "verified": verified, "visibility": None}


USERS: dict[str, dict[str, Any]] = {
    "octocat": {
        "id": 583231,
        "name": "The Octocat",
        "emails": [
            email("octocat@users.noreply.github.com"),
            email("octo@example.com", primary=True),
            email("octo@other.example"),
        ],
        "orgs": ["github", "Portico-Dev"],
    },
    "unverified": {
        "id": 1002,
        "name": None,
        "emails": [email("new@example.com", primary=True, verified=False), email("old@example.com")],
        "orgs": [],
    },
    "joiner": {"id": 1003, "name": "Joiner", "emails": [email("joiner@other.example", primary=True)], "orgs": []},
}


@dataclass
class GithubStandIn:
    clock: Callable[[], int]
    users: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in USERS.items()})
    per_page_limit: int = 2
    link_origin: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    api_requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.oauth = AuthorizationServer(CLIENT_ID, CLIENT_SECRET, "login", self.clock)

    @property
    def base_url(self) -> str:
        return self.oauth.base_url

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login/oauth/authorize", self.oauth.authorize),
                Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
                Route("/api/user", self.user),
                Route("/api/user/emails", self.emails),
                Route("/api/user/orgs", self.orgs),
            ]
        )

    async def access_token(self, request: Request) -> Response:
        grant = await self.oauth.redeem(request)
        if not isinstance(grant, Grant):
            # GitHub answers OAuth errors with 200 and an error object.
            return JSONResponse({"error": "bad_verification_code", "error_description": "The code is incorrect."})
        token = f"gho_{secrets.token_urlsafe(16)}"
        self.tokens[token] = grant.account
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": grant.scope})

    def _user(self, request: Request) -> dict[str, Any] | None:
        header = request.headers.get("authorization", "")
        self.api_requests.append((request.url.path, header.split(" ")[0]))
        scheme, _, token = header.partition(" ")
        login = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return {"login": login, **self.users[login]} if login else None

    async def user(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return JSONResponse({"login": user["login"], "id": user["id"], "name": user["name"], "type": "User"})

    async def emails(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return JSONResponse(user["emails"])

    async def orgs(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        per_page = min(int(request.query_params.get("per_page", "30")), self.per_page_limit)
        page = int(request.query_params.get("page", "1"))
        logins: list[str] = user["orgs"]
        items = logins[(page - 1) * per_page : page * per_page]
        body = [{"login": login, "id": index, "url": f"/orgs/{login}"} for index, login in enumerate(items)]
        headers = {}
        if page * per_page < len(logins):
            origin = self.link_origin or self.base_url
            headers["link"] = (
                f'<{origin}/api/user/orgs?{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"'
            )
        return JSONResponse(body, headers=headers)
