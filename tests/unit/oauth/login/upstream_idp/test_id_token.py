"""ID token validation (OpenID Connect Core §3.1.3.7), as a pure function over joserfc keys."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from oauth.login.upstream_idp.errors import InvalidIdTokenError
from oauth.login.upstream_idp.id_token import (
    LEEWAY_SECONDS,
    MAX_AGE_SECONDS,
    IdTokenExpectations,
    UnknownSigningKeyError,
    verify_id_token,
)

NOW = 1_800_000_000
ISSUER = "https://idp.example.com"
CLIENT = "portico"
NONCE = "n-0S6_WzA2Mj"
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
EC_2 = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
ED = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
EXPECT = IdTokenExpectations(frozenset({ISSUER}), CLIENT, NONCE, NOW)


def public(*keys: ECKey | RSAKey | OKPKey) -> list[Any]:
    return [type(key).import_key(key.as_dict(private=False)) for key in keys]


KEYS = public(EC, RSA, ED)


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "248289761001", "nonce": NONCE, "iat": NOW, "exp": NOW + 300}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def sign(payload: dict[str, Any], key: Any = EC, alg: str = "ES256", **header: Any) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA, the pre-RFC 9864 name
        return jwt.encode({"alg": alg, "kid": key.kid, **header}, payload, key, algorithms=[alg])


def segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def reason(token: str, keys: list[Any] = KEYS, expect: IdTokenExpectations = EXPECT) -> str:
    with pytest.raises(InvalidIdTokenError) as raised:
        verify_id_token(token, keys, expect)
    return raised.value.reason


@pytest.mark.parametrize(
    ("key", "alg"), [(EC, "ES256"), (RSA, "RS256"), (RSA, "PS256"), (ED, "Ed25519"), (ED, "EdDSA")]
)
def test_a_valid_token_signed_with_any_accepted_algorithm_verifies(key: Any, alg: str) -> None:
    assert verify_id_token(sign(claims(), key, alg), KEYS, EXPECT)["sub"] == "248289761001"


def test_a_token_without_kid_verifies_against_the_key_of_its_type() -> None:
    token = jwt.encode({"alg": "ES256"}, claims(), EC)
    assert verify_id_token(token, public(EC_2, EC, RSA), EXPECT)["iss"] == ISSUER


def test_an_unknown_kid_asks_for_the_jwks_to_be_fetched_again() -> None:
    with pytest.raises(UnknownSigningKeyError):
        verify_id_token(sign(claims(), EC_2), KEYS, EXPECT)


def test_a_signature_by_another_key_under_a_known_kid_is_refused() -> None:
    impostor = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    assert reason(sign(claims(), impostor)) == "the ID token's signature does not verify"


def test_alg_none_and_hmac_are_refused_whatever_the_key_set() -> None:
    """Spec-mandated (§3.1.3.7 steps 6-8); HS256 keyed with a public key is the classic confusion attack."""
    unsigned = f"{segment({'alg': 'none'})}.{segment(claims())}."
    assert reason(unsigned) == "the ID token's algorithm is not an accepted asymmetric one"
    hmac_key = OctKey.import_key(b"a shared secret of thirty-two bytes!")
    assert reason(jwt.encode({"alg": "HS256"}, claims(), hmac_key)) == reason(unsigned)


def test_a_key_of_the_wrong_type_for_the_algorithm_is_not_used() -> None:
    token = sign(claims(), EC, "ES256", kid="rsa-1")
    with pytest.raises(UnknownSigningKeyError):
        verify_id_token(token, KEYS, EXPECT)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 20_000, "e30.e30.e30.e30.e30"])
def test_garbage_is_refused_without_an_exception_escaping(token: str) -> None:
    assert reason(token)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iss": "https://other.example.com"}, "the ID token was issued by another issuer"),
        ({"iss": None}, "the ID token was issued by another issuer"),
        ({"aud": "someone-else"}, "the ID token is not for this client (aud)"),
        ({"aud": ["someone-else", "x"]}, "the ID token is not for this client (aud)"),
        ({"aud": [CLIENT, "other"]}, "the ID token has several audiences and no azp"),
        ({"azp": "other"}, "the ID token was issued to another party (azp)"),
        ({"exp": NOW - LEEWAY_SECONDS}, "the ID token has expired"),
        ({"exp": None}, "the ID token lacks a numeric exp or iat"),
        ({"iat": "yesterday"}, "the ID token lacks a numeric exp or iat"),
        ({"iat": NOW + LEEWAY_SECONDS + 1}, "the ID token is issued in the future"),
        ({"nbf": NOW + LEEWAY_SECONDS + 1}, "the ID token is issued in the future"),
        ({"iat": NOW - MAX_AGE_SECONDS - LEEWAY_SECONDS - 1}, "the ID token was issued too long ago"),
        ({"nonce": "replayed-nonce"}, "the ID token's nonce does not match this sign-in"),
        ({"nonce": None}, "the ID token's nonce does not match this sign-in"),
        ({"sub": ""}, "the ID token has no usable subject (sub)"),
        ({"sub": 42}, "the ID token has no usable subject (sub)"),
    ],
)
def test_each_claim_check_refuses_with_its_reason(overrides: dict[str, Any], expected: str) -> None:
    assert reason(sign(claims(**overrides))) == expected


def test_several_audiences_pass_when_azp_is_the_client() -> None:
    assert verify_id_token(sign(claims(aud=[CLIENT, "api"], azp=CLIENT)), KEYS, EXPECT)["azp"] == CLIENT


def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    token = sign(claims(exp=NOW - LEEWAY_SECONDS + 1, iat=NOW + LEEWAY_SECONDS))
    assert verify_id_token(token, KEYS, EXPECT)


def test_any_of_several_accepted_issuers_passes() -> None:
    expect = IdTokenExpectations(frozenset({ISSUER, "idp.example.com"}), CLIENT, NONCE, NOW)
    assert verify_id_token(sign(claims(iss="idp.example.com")), KEYS, expect)
