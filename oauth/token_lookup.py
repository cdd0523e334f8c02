"""Find a presented token for revocation (RFC 7009) and introspection (RFC 7662).

An access token is a JWT: its signature, ``typ``, issuer and expiry are verified by
:func:`oauth.tokens.access_tokens.verify_access_token` against one of this gateway's resources, and its
``jti`` row says whether its grant was revoked. A refresh token is looked up by hash.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from oauth.scopes import scope_string
from oauth.server_context import ServerContext
from oauth.store.issued_access_tokens import IssuedAccessTokenRow, find_access_token
from oauth.store.refresh_tokens import RefreshTokenRow, find_refresh_token
from oauth.token_hashing import token_hashes
from oauth.tokens.access_tokens import AccessTokenClaims, AccessTokenError, verify_access_token

ACCESS_TOKEN = "access_token"  # noqa: S105 - a token_type_hint value
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a token_type_hint value


@dataclass(frozen=True)
class AccessTokenRecord:
    """A verified access token and its issuance record (Authlib's TokenMixin, by duck typing)."""

    claims: AccessTokenClaims
    row: IssuedAccessTokenRow | None
    revoked_in_process: bool

    @property
    def client_id(self) -> str:
        return self.claims.client_id

    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.claims.client_id

    def get_scope(self) -> str:
        return scope_string(set(self.claims.scopes))

    def is_revoked(self) -> bool:
        return self.row is None or self.row.revoked_at is not None or self.revoked_in_process


@dataclass(frozen=True)
class RefreshTokenRecord:
    row: RefreshTokenRow
    now: datetime

    @property
    def client_id(self) -> str:
        return self.row.client_id

    def check_client(self, client: object) -> bool:
        return self.row.check_client(client)

    def is_expired(self) -> bool:
        return self.row.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.used_at is not None


def find_token(ctx: ServerContext, token: str, hint: str | None) -> AccessTokenRecord | RefreshTokenRecord | None:
    """The access or refresh token ``token`` is, trying the hinted type first (RFC 7009 §2.1)."""
    order = (_access, _refresh) if hint != REFRESH_TOKEN else (_refresh, _access)
    for find in order:
        found = find(ctx, token)
        if found is not None:
            return found
    return None


def _refresh(ctx: ServerContext, token: str) -> RefreshTokenRecord | None:
    row = find_refresh_token(ctx.db, token_hashes(ctx.runtime.keyring, token))
    return RefreshTokenRecord(row, ctx.now) if row is not None else None


def _access(ctx: ServerContext, token: str) -> AccessTokenRecord | None:
    audience = _unverified_audience(token)
    if audience is None or ctx.runtime.resources.find(audience) is None:
        return None
    try:
        claims = verify_access_token(
            token,
            verification_keys=ctx.runtime.signing_keys.verification_keys,
            issuer=ctx.issuer,
            audience=audience,
            now=ctx.now.timestamp(),
        )
    except AccessTokenError:
        return None
    revoked = ctx.runtime.revoked_tokens.is_revoked(claims.jwt_id, ctx.now.timestamp())
    return AccessTokenRecord(claims, find_access_token(ctx.db, claims.jwt_id), revoked)


def _unverified_audience(token: str) -> str | None:
    """The ``aud`` claim read without verification, only to pick the audience to verify against."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    audience = payload.get("aud") if isinstance(payload, dict) else None
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    return audience if isinstance(audience, str) else None
