"""Access tokens this process has already verified, so a client's next call skips the JWS work.

Clients reuse one access token for its whole lifetime (an hour by default), and verifying it
(JWS parse, ES256 signature, claims) was 10–15 % of a warm proxied call. :class:`VerifiedTokens`
remembers the claims of tokens that passed :func:`oauth.tokens.access_tokens.verify_access_token`:

- keyed by the SHA-256 digest of the token, never the token itself: the table holds no bearer
  secret, and a lookup compares digests, so its timing tells nothing usable about a token (finding
  a token from a digest prefix is a pre-image attack);
- an entry is used only before the token's ``exp`` (then the full check decides again, leeway
  included), only for the issuer and audience it was verified for, and only while the
  verification key set is the one it was verified with;
- revocation is *not* cached: the caller consults the revoked-``jti`` list on every hit, so a
  revoked token is refused as fast as before;
- bounded: at ``max_entries`` the oldest entry goes (first in, first out; cheap and good enough
  when each client keeps one token).

Only successes are cached; refusals always take the full path (and say why).
"""

from __future__ import annotations

import hashlib
from typing import Final

from oauth.tokens.access_tokens import AccessTokenClaims

DEFAULT_MAX_ENTRIES: Final = 10_000


class VerifiedTokens:
    """A bounded map ``sha256(token) → claims`` for one verification key set (an object identity)."""

    def __init__(self, keys: object, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.keys = keys
        self._max_entries = max_entries
        self._claims: dict[bytes, AccessTokenClaims] = {}

    def get(self, token: str, *, keys: object, issuer: str, audience: str, now: float) -> AccessTokenClaims | None:
        """The claims of ``token`` if verified for ``issuer`` / ``audience`` with ``keys`` and not yet expired."""
        if keys is not self.keys:
            self.keys = keys
            self._claims.clear()
            return None
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._claims.get(digest)
        if claims is None:
            return None
        if claims.expires_at <= now:
            del self._claims[digest]
            return None
        if claims.issuer != issuer or claims.audience != audience:
            return None
        return claims

    def put(self, token: str, claims: AccessTokenClaims) -> None:
        """Remember ``claims`` as the verified claims of ``token`` (evicting the oldest entry when full)."""
        if len(self._claims) >= self._max_entries:
            del self._claims[next(iter(self._claims))]
        self._claims[hashlib.sha256(token.encode()).digest()] = claims

    def forget(self, token: str) -> None:
        self._claims.pop(hashlib.sha256(token.encode()).digest(), None)

    def __len__(self) -> int:
        return len(self._claims)
