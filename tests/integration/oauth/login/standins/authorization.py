"""The authorization-code half every stand-in shares: the authorize redirect and the token endpoint checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response


@dataclass
class Grant:
    account: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str


@dataclass
class AuthorizationServer:
    """Issues codes at ``GET <authorize>`` (the account chosen by a query parameter) and redeems them.

    ``account_param`` is the parameter naming the account (Google: ``login_hint``, GitHub: ``login``);
    an account named ``deny`` gets ``error=access_denied`` instead of a code. ``token_error`` makes the
    token endpoint answer with that OAuth error.
    """

    client_id: str
    client_secret: str
    account_param: str
    clock: Callable[[], int]
    base_url: str = ""
    token_error: str | None = None
    authorization_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorization_requests.append(params)
        redirect_uri, state = params["redirect_uri"], params.get("state", "")
        account = params.get(self.account_param, "")
        if account == "deny":
            query = {"error": "access_denied", "error_description": "The user said <no>", "state": state}
            return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)
        assert params["client_id"] == self.client_id and params["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            account, redirect_uri, params["code_challenge"], params.get("nonce"), params.get("scope", "")
        )
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    async def redeem(self, request: Request) -> Grant | JSONResponse:
        """The grant of a valid token request, or the OAuth error response to send."""
        form = {name: str(value) for name, value in (await request.form()).items()}
        self.token_requests.append(form)
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if self.token_error is not None:
            return JSONResponse({"error": self.token_error, "error_description": "stand-in refusal"}, status_code=400)
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        if s256(form.get("code_verifier", "")) != grant.code_challenge:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        return grant

    def _client_authenticated(self, request: Request, form: dict[str, Any]) -> bool:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return (client_id, secret) == (self.client_id, self.client_secret)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
