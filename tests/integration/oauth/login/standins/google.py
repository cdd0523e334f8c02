"""A Google stand-in: discovery, authorization, token (ID tokens signed with a joserfc RSA key), JWKS, userinfo,
and Google's certificate endpoint (``/oauth2/v1/certs``: a self-signed X.509 certificate per key, PEM by key
id, ``Cache-Control: max-age``), which google-auth reads.

Also serves as a generic OpenID provider for ``type: oidc`` tests (``userinfo_claims`` overrides the
UserInfo answer).

Accounts are keyed by the ``login_hint`` the test adds to the authorization URL. ``id_token_claims``
overrides claims of the next ID tokens (e.g. ``{"aud": "other"}``), ``signing_key`` signs them
(replace it to forge a signature or rotate keys) and ``published_keys`` is what the JWKS serves.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.oauth.login.standins.authorization import AuthorizationServer, Grant

CLIENT_ID = "portico.apps.googleusercontent.com"
CLIENT_SECRET = "google-stand-in-secret"
CERTS_MAX_AGE = 3600

ACCOUNTS: dict[str, dict[str, Any]] = {
    # A Google Workspace account: hd is the Workspace domain.
    "alice": {"sub": "110001", "email": "alice@example.com", "email_verified": True, "hd": "example.com"},
    # A consumer Google account created with a (verified) address at example.com: no hd.
    "outsider": {"sub": "110002", "email": "outsider@example.com", "email_verified": True},
    "gmail": {"sub": "110003", "email": "bob@gmail.com", "email_verified": True},
    "other": {"sub": "110004", "email": "carol@other.example", "email_verified": True, "hd": "other.example"},
    "unverified": {"sub": "110005", "email": "dan@example.com", "email_verified": False, "hd": "example.com"},
}


def new_signing_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class GoogleStandIn:
    clock: Callable[[], int]
    accounts: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in ACCOUNTS.items()})
    signing_key: RSAKey = field(default_factory=lambda: new_signing_key("google-1"))
    published_keys: list[RSAKey] = field(default_factory=list)
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    jwks_fetches: int = 0
    certs_fetches: int = 0

    def __post_init__(self) -> None:
        self.oauth = AuthorizationServer(CLIENT_ID, CLIENT_SECRET, "login_hint", self.clock)
        self.published_keys = self.published_keys or [self.signing_key]

    @property
    def base_url(self) -> str:
        return self.oauth.base_url

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/o/oauth2/v2/auth", self.oauth.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/oauth2/v3/certs", self.jwks),
                Route("/oauth2/v1/certs", self.certs),
                Route("/v1/userinfo", self.userinfo),
            ]
        )

    async def discovery(self, _request: Request) -> Response:
        base = self.base_url
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/v1/userinfo",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["plain", "S256"],
            }
        )

    async def jwks(self, _request: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse({"keys": [key.as_dict(private=False) for key in self.published_keys]})

    @property
    def certs_url(self) -> str:
        return f"{self.base_url}/oauth2/v1/certs"

    async def certs(self, _request: Request) -> Response:
        self.certs_fetches += 1
        body = {str(key.kid): certificate_pem(key) for key in self.published_keys}
        return JSONResponse(body, headers={"cache-control": f"public, max-age={CERTS_MAX_AGE}, must-revalidate"})

    async def token(self, request: Request) -> Response:
        grant = await self.oauth.redeem(request)
        if not isinstance(grant, Grant):
            return grant
        access_token = f"ya29.{secrets.token_urlsafe(16)}"
        self.access_tokens[access_token] = grant.account
        return JSONResponse(
            {
                "access_token": access_token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": grant.scope,
                "id_token": self.id_token(grant),
            }
        )

    async def userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        account = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if account is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({**self.accounts[account], **self.userinfo_claims})

    def id_token(self, grant: Grant) -> str:
        now = self.clock()
        claims = {"iss": self.base_url, "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now, "exp": now + 3600}
        claims |= self.accounts[grant.account]
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims |= self.id_token_claims
        header = {"alg": "RS256", "kid": self.signing_key.kid, "typ": "JWT"}
        return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, self.signing_key)


def certificate_pem(key: RSAKey) -> str:
    """A self-signed certificate for ``key``, as Google publishes its signing keys."""
    private = key.private_key
    assert private is not None
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "google-stand-in")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .sign(private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()
