"""Access tokens (RFC 9068): what verifies, and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from oauth.tokens.access_tokens import AccessTokenError, issue_access_token, verify_access_token
from oauth.tokens.revocation_list import RevokedTokens
from oauth.tokens.signing_keys import SigningKeys

ISSUER = "https://gw.example.com"
AUDIENCE = "https://gw.example.com/github/mcp"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
T0 = NOW.timestamp()


@pytest.fixture
def keys() -> SigningKeys:
    key = ECKey.generate_key("P-256", auto_kid=True)
    return SigningKeys(signing_key=key, verification_keys=KeySet([key]))


def mint(keys: SigningKeys, **overrides: object) -> str:
    args: dict[str, object] = {
        "issuer": ISSUER,
        "subject": "42",
        "audience": AUDIENCE,
        "client_id": "c1",
        "scopes": {"mcp"},
        "now": NOW,
        "lifetime": 3600,
        "email": "a@example.com",
    }
    args.update(overrides)
    token, _claims = issue_access_token(keys, **args)  # type: ignore[arg-type]
    return token


def verify(
    keys: SigningKeys,
    token: str,
    *,
    now: float = T0 + 1,
    audience: str = AUDIENCE,
    revoked: RevokedTokens | None = None,
) -> object:
    return verify_access_token(
        token, verification_keys=keys.verification_keys, issuer=ISSUER, audience=audience, now=now, revoked=revoked
    )


def test_issued_token_verifies_with_all_rfc9068_claims(keys: SigningKeys) -> None:
    token = mint(keys)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"typ": "at+jwt", "alg": "ES256", "kid": keys.signing_key.kid}
    claims = verify_access_token(
        token, verification_keys=keys.verification_keys, issuer=ISSUER, audience=AUDIENCE, now=T0 + 1
    )
    assert (claims.subject, claims.audience, claims.client_id, claims.scopes) == (
        "42",
        AUDIENCE,
        "c1",
        frozenset({"mcp"}),
    )
    assert claims.expires_at - claims.issued_at == 3600
    assert claims.email == "a@example.com"


def test_token_for_another_server_is_refused(keys: SigningKeys) -> None:
    with pytest.raises(AccessTokenError, match="another resource"):
        verify(keys, mint(keys), audience="https://gw.example.com/jira/mcp")


def test_expired_token_is_refused(keys: SigningKeys) -> None:
    with pytest.raises(AccessTokenError, match="expired"):
        verify(keys, mint(keys), now=T0 + 3600 + 31)


def test_token_signed_by_an_unknown_key_is_refused(keys: SigningKeys) -> None:
    other_key = ECKey.generate_key("P-256", auto_kid=True)
    other = SigningKeys(signing_key=other_key, verification_keys=KeySet([other_key]))
    with pytest.raises(AccessTokenError, match="signature"):
        verify(keys, mint(other))


def test_tampered_payload_is_refused(keys: SigningKeys) -> None:
    header, payload, signature = mint(keys).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(AccessTokenError):
        verify(keys, f"{header}.{forged}.{signature}")


def test_alg_none_is_refused(keys: SigningKeys) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').decode().rstrip("=")
    payload = mint(keys).split(".")[1]
    with pytest.raises(AccessTokenError):
        verify(keys, f"{header}.{payload}.")


def test_hs256_token_using_the_public_key_as_secret_is_refused(keys: SigningKeys) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": keys.signing_key.kid}).encode())
    payload = mint(keys).split(".")[1]
    mac = hmac.new(keys.signing_key.as_pem(private=False), f"{header}.{payload}".encode(), hashlib.sha256)
    with pytest.raises(AccessTokenError):
        verify(keys, f"{header}.{payload}.{b64(mac.digest())}")


def test_id_token_shaped_jwt_without_at_jwt_typ_is_refused(keys: SigningKeys) -> None:
    token = jwt.encode(
        {"alg": "ES256", "kid": keys.signing_key.kid},
        {"iss": ISSUER, "sub": "1", "aud": AUDIENCE, "client_id": "c", "exp": T0 + 60, "iat": T0, "jti": "x"},
        keys.signing_key,
    )
    with pytest.raises(AccessTokenError, match="typ"):
        verify(keys, token)


def test_token_from_another_issuer_is_refused(keys: SigningKeys) -> None:
    with pytest.raises(AccessTokenError, match="issuer"):
        verify(keys, mint(keys, issuer="https://evil.example.com"))


def test_revoked_token_is_refused_until_it_would_have_expired(keys: SigningKeys) -> None:
    token = mint(keys)
    revoked = RevokedTokens()
    claims = verify_access_token(
        token, verification_keys=keys.verification_keys, issuer=ISSUER, audience=AUDIENCE, now=T0 + 1
    )
    revoked.revoke(claims.jwt_id, claims.expires_at)
    with pytest.raises(AccessTokenError, match="revoked"):
        verify(keys, token, revoked=revoked)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "x" * 5000])
def test_garbage_is_refused(keys: SigningKeys, garbage: str) -> None:
    with pytest.raises(AccessTokenError):
        verify(keys, garbage)
