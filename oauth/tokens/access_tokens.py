"""Portico's access tokens: JWTs per RFC 9068, signed ES256 with a ``kid``.

Header ``{"typ": "at+jwt", "alg": "ES256", "kid": …}``; claims ``iss sub aud client_id scope
exp iat jti`` (+ ``email``). ``aud`` is exactly one protected resource URL (RFC 8707), so a token
for one server route is refused at every other route. Verification is local (cached public keys,
no database), as the proxy hot path requires.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from oauth.tokens.revocation_list import LEEWAY_SECONDS, RevokedTokens
from oauth.tokens.signing_keys import ALGORITHM, SigningKeys

TOKEN_TYPE = "at+jwt"  # noqa: S105 - the RFC 9068 media type, not a secret
_LEEWAY_SECONDS = LEEWAY_SECONDS


@dataclass(frozen=True)
class AccessTokenClaims:
    """The verified claims. Times are Unix seconds; ``scopes`` come from the space-separated ``scope``."""

    issuer: str
    subject: str
    audience: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int
    issued_at: int
    jwt_id: str
    email: str | None = None


class AccessTokenError(Exception):
    """The token is not acceptable here. ``reason`` is safe to show (it never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_access_token(
    keys: SigningKeys,
    *,
    issuer: str,
    subject: str,
    audience: str,
    client_id: str,
    scopes: frozenset[str] | set[str],
    now: datetime,
    lifetime: int,
    email: str | None = None,
) -> tuple[str, AccessTokenClaims]:
    """Mint a signed access token valid for ``lifetime`` seconds from ``now``; return it and its claims."""
    issued_at = int(now.timestamp())
    claims = AccessTokenClaims(
        issuer=issuer,
        subject=subject,
        audience=audience,
        client_id=client_id,
        scopes=frozenset(scopes),
        expires_at=issued_at + lifetime,
        issued_at=issued_at,
        jwt_id=secrets.token_urlsafe(16),
        email=email,
    )
    payload: dict[str, object] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "scope": " ".join(sorted(scopes)),
        "exp": claims.expires_at,
        "iat": issued_at,
        "jti": claims.jwt_id,
    }
    if email is not None:
        payload["email"] = email
    key = keys.key_at(now.timestamp())
    header = {"typ": TOKEN_TYPE, "alg": ALGORITHM, "kid": key.kid}
    return jwt.encode(header, payload, key, algorithms=[ALGORITHM]), claims


def verify_access_token(
    token: str,
    *,
    verification_keys: KeySet,
    issuer: str,
    audience: str,
    now: float | None = None,
    revoked: RevokedTokens | None = None,
) -> AccessTokenClaims:
    """Verify signature (ES256 only, known ``kid``), ``typ``, ``iss``, ``aud``, ``exp`` and revocation.

    Raises:
        AccessTokenError: with a reason such as ``"token expired"`` or ``"token is for another resource"``.
    """
    current = time.time() if now is None else now
    try:
        decoded = jwt.decode(token, verification_keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise AccessTokenError("token signature or format is invalid") from error
    header, payload = decoded.header, decoded.claims
    if str(header.get("typ", "")).lower() not in (TOKEN_TYPE, f"application/{TOKEN_TYPE}"):
        raise AccessTokenError("not an access token (typ)")
    claims = _claims(payload)
    if claims.issuer != issuer:
        raise AccessTokenError("token was issued by another issuer")
    if claims.audience != audience:
        raise AccessTokenError("token is for another resource")
    if claims.expires_at <= current - _LEEWAY_SECONDS:
        raise AccessTokenError("token expired")
    if claims.issued_at > current + _LEEWAY_SECONDS:
        raise AccessTokenError("token issued in the future")
    if revoked is not None and revoked.is_revoked(claims.jwt_id, current):
        raise AccessTokenError("token was revoked")
    return claims


def _claims(payload: dict[str, object]) -> AccessTokenClaims:
    try:
        audience = payload["aud"]
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        email = payload.get("email")
        return AccessTokenClaims(
            issuer=_text(payload["iss"]),
            subject=_text(payload["sub"]),
            audience=_text(audience),
            client_id=_text(payload["client_id"]),
            scopes=frozenset(_text(payload.get("scope", "")).split()),
            expires_at=_int(payload["exp"]),
            issued_at=_int(payload["iat"]),
            jwt_id=_text(payload["jti"]),
            email=email if isinstance(email, str) else None,
        )
    except (KeyError, TypeError) as error:
        raise AccessTokenError("token lacks a required claim") from error


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string claim")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a numeric claim")
    return int(value)
