"""The example verifier an upstream copies (examples/verify_identity.py) against Portico's own minting.

Assertions are minted by :func:`oauth.tokens.identity_assertions.issue_identity_assertion` with a real
ES256 key; each refusal is checked against an assertion that differs from an accepted one in one
respect only, so a verifier that skipped the check would fail the test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from examples.verify_identity import IDENTITY_TYPE, Identity, IdentityError, verify_identity
from oauth.tokens.access_tokens import AccessTokenError, issue_access_token, verify_access_token
from oauth.tokens.identity_assertions import IdentityStatement, issue_identity_assertion
from oauth.tokens.signing_keys import SigningKeys

ISSUER = "https://portico.example.com"
AUDIENCE = "https://tools.internal.example.com/mcp"
NOW = 1_900_000_000
KEY = ECKey.generate_key("P-256", auto_kid=True)
KEYS = KeySet([ECKey.import_key(KEY.as_dict(private=False))])
STATEMENT = IdentityStatement(subject="u-1", email="ada@example.com", groups=("eng", "ops"), client_id="cli")


def mint(
    statement: IdentityStatement = STATEMENT,
    *,
    key: ECKey = KEY,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    now: int = NOW,
    lifetime: int = 300,
) -> str:
    return issue_identity_assertion(key, statement, issuer=issuer, audience=audience, now=now, lifetime=lifetime)


def verify(token: str, *, now: float = NOW + 10, audience: str = AUDIENCE) -> Identity:
    return verify_identity(token, KEYS, issuer=ISSUER, audience=audience, now=now)


def test_a_fresh_assertion_for_this_upstream_yields_the_user_and_client() -> None:
    token = mint()
    assert verify(token) == Identity("u-1", "ada@example.com", ("eng", "ops"), "cli", NOW + 300)
    header = jwt.decode(token, KEYS).header
    assert header == {"typ": IDENTITY_TYPE, "alg": "ES256", "kid": KEY.kid}


def test_the_act_claim_names_an_acting_service_and_is_absent_otherwise() -> None:
    acted = mint(IdentityStatement("u-1", None, (), "svc", actor="svc-ci"))
    assert verify(acted).actor == "svc-ci" and verify(acted).email is None
    assert "act" not in jwt.decode(mint(), KEYS).claims


def test_an_expired_assertion_is_refused_after_the_leeway() -> None:
    token = mint(lifetime=60)
    assert verify(token, now=NOW + 60 + 29).subject == "u-1"
    with pytest.raises(IdentityError, match="expired"):
        verify(token, now=NOW + 60 + 30)


def test_an_assertion_for_another_upstream_is_refused() -> None:
    with pytest.raises(IdentityError, match="another audience"):
        verify(mint(audience="https://other.internal.example.com/mcp"))
    with pytest.raises(IdentityError, match="another audience"):
        verify(mint(), audience=AUDIENCE + "/")


def test_an_assertion_from_another_issuer_is_refused() -> None:
    with pytest.raises(IdentityError, match="another issuer"):
        verify(mint(issuer="https://evil.example.com"))


def test_an_assertion_signed_by_a_key_outside_the_jwks_is_refused() -> None:
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    with pytest.raises(IdentityError, match="signature"):
        verify(mint(key=stranger))


def test_a_tampered_assertion_is_refused() -> None:
    head, body, signature = mint().split(".")
    forged = mint(IdentityStatement("admin", None, ("root",), "cli")).split(".")[1]
    with pytest.raises(IdentityError, match="signature"):
        verify(f"{head}.{forged}.{signature}")
    assert body != forged


def test_an_assertion_issued_in_the_future_is_refused() -> None:
    with pytest.raises(IdentityError, match="future"):
        verify(mint(now=NOW + 120), now=NOW)


def test_a_portico_access_token_is_not_an_identity_and_an_identity_not_an_access_token() -> None:
    keys = SigningKeys(signing_key=KEY, verification_keys=KEYS)
    now = datetime.fromtimestamp(NOW, UTC)
    access, _claims = issue_access_token(
        keys, issuer=ISSUER, subject="u-1", audience=AUDIENCE, client_id="cli", scopes={"mcp"}, now=now, lifetime=300
    )
    with pytest.raises(IdentityError, match="typ"):
        verify(access)
    with pytest.raises(AccessTokenError, match="typ"):
        verify_access_token(mint(), verification_keys=KEYS, issuer=ISSUER, audience=AUDIENCE, now=NOW + 10)
