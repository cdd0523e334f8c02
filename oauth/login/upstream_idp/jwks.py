"""An IdP's signing keys (its JWKS, RFC 7517), cached; fetched again when a token names an unknown key.

Only public signature keys are kept: ``kty`` RSA, EC or OKP, ``use`` absent or ``sig``. Symmetric
(``oct``) and encryption keys are dropped, and so is any key joserfc cannot import, so one odd
entry does not take the others down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.http import get_json_object

PublicKey = RSAKey | ECKey | OKPKey
_SIGNATURE_KEY_TYPES = ("RSA", "EC", "OKP")

FetchJwks = Callable[[str], Awaitable[dict[str, Any]]]


async def fetch_jwks(jwks_uri: str) -> dict[str, Any]:
    """GET the JWKS document (raises :class:`AuthorizationServerUnavailableError`)."""
    return await get_json_object(jwks_uri, "JWKS")


def signature_keys(jwks: dict[str, Any]) -> tuple[PublicKey, ...]:
    """The usable public signature keys of a JWKS document."""
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        return ()
    keys: list[PublicKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") not in _SIGNATURE_KEY_TYPES:
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = JWKRegistry.import_key({name: value for name, value in entry.items() if not _private(name)})
        except (JoseError, ValueError, TypeError):
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey):
            keys.append(key)
    return tuple(keys)


class JwksCache:
    """The signing keys at ``jwks_uri``: fetched on first use, kept, refetched on demand."""

    def __init__(self, jwks_uri: str, fetch: FetchJwks = fetch_jwks) -> None:
        self.jwks_uri = jwks_uri
        self._fetch = fetch
        self._keys: tuple[PublicKey, ...] | None = None

    async def keys(self, *, refresh: bool = False) -> tuple[PublicKey, ...]:
        """The cached keys (fetching them when there are none yet, or when ``refresh``).

        Raises:
            AuthorizationServerUnavailableError: the JWKS cannot be fetched or holds no usable signature key.
        """
        if self._keys is None or refresh:
            keys = signature_keys(await self._fetch(self.jwks_uri))
            if not keys:
                raise AuthorizationServerUnavailableError("the JWKS holds no usable signature key")
            self._keys = keys
        return self._keys


def _private(name: str) -> bool:
    # Never import private key material an IdP published by mistake.
    return name in ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
