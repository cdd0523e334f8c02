"""The JWKS cache: only public signature keys are kept; fetched once, again only on demand."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.login.upstream_idp.jwks import JwksCache, signature_keys

pytestmark = pytest.mark.anyio
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def test_only_public_signature_keys_are_kept() -> None:
    jwks = {
        "keys": [
            EC.as_dict(private=True),  # private parts published by mistake are dropped
            RSA.as_dict(private=False),
            {**RSA.as_dict(private=False), "kid": "enc", "use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "!", "y": "!"},
            "not a key",
        ]
    }
    keys = signature_keys(jwks)
    assert [key.kid for key in keys] == ["ec-1", "rsa-1"]
    assert not any(key.is_private for key in keys)


@pytest.mark.parametrize("jwks", [{}, {"keys": "x"}, {"keys": []}])
def test_a_jwks_without_usable_keys_holds_none(jwks: dict[str, Any]) -> None:
    assert signature_keys(jwks) == ()


async def test_keys_are_fetched_once_then_again_only_when_asked() -> None:
    fetched: list[str] = []

    async def fetch(uri: str) -> dict[str, Any]:
        fetched.append(uri)
        return {"keys": [EC.as_dict(private=False)]}

    cache = JwksCache("https://idp.example.com/jwks", fetch)
    assert [key.kid for key in await cache.keys()] == ["ec-1"]
    await cache.keys()
    await cache.keys(refresh=True)
    assert fetched == ["https://idp.example.com/jwks"] * 2


async def test_an_empty_jwks_makes_the_idp_unavailable() -> None:
    async def fetch(_uri: str) -> dict[str, Any]:
        return {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}

    with pytest.raises(AuthorizationServerUnavailableError):
        await JwksCache("https://idp.example.com/jwks", fetch).keys()
