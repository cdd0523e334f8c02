"""One user's OAuth grant at an upstream authorization server, as stored (encrypted) in the vault.

The vault holds it as a JSON object under kind ``oauth`` (:data:`OAUTH`), sealed like every
credential to ``user|server|kind``. ``expires_at`` is epoch seconds (None when the token response
had no ``expires_in``, RFC 6749 §5.1: the token is then used until the upstream refuses it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

OAUTH: Final = "oauth"


@dataclass(frozen=True)
class OAuthGrant:
    access_token: str
    refresh_token: str | None
    expires_at: int | None
    scope: str | None
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> OAuthGrant | None:
        """The grant in ``text``, or None when it is not a grant object (a corrupt or foreign value)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            return None
        return cls(
            access_token=data["access_token"],
            refresh_token=_str(data.get("refresh_token")),
            expires_at=data["expires_at"] if isinstance(data.get("expires_at"), int) else None,
            scope=_str(data.get("scope")),
            token_type=_str(data.get("token_type")) or "Bearer",
        )

    def needs_refresh(self, now: int, margin: int) -> bool:
        """True when the access token expires within ``margin`` seconds of ``now`` (epoch seconds)."""
        return self.expires_at is not None and self.expires_at - margin <= now

    def expired(self, now: int) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def rotated(self, token: Mapping[str, Any], now: int) -> OAuthGrant:
        """The grant after a refresh response (RFC 6749 §6): the old refresh token stays unless a new one came."""
        fresh = grant_from_token_response(token, now)
        return replace(fresh, refresh_token=fresh.refresh_token or self.refresh_token, scope=fresh.scope or self.scope)


def grant_from_token_response(token: Mapping[str, Any], now: int) -> OAuthGrant:
    """A grant from an RFC 6749 §5.1 token response (``access_token`` already checked to be a string)."""
    expires_in = token.get("expires_in")
    expires_at = now + int(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else None
    return OAuthGrant(
        access_token=str(token["access_token"]),
        refresh_token=_str(token.get("refresh_token")),
        expires_at=expires_at,
        scope=_str(token.get("scope")),
        token_type=_str(token.get("token_type")) or "Bearer",
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
