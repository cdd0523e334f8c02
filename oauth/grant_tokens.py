"""Issuing and revoking the tokens of one grant (an authorization code and its refresh family).

- Access tokens: RFC 9068 JWTs from :func:`oauth.tokens.access_tokens.issue_access_token`, ``aud`` =
  the resource; each ``jti`` is recorded with its family and with the refresh token minted with it,
  so that the grant, or one branch of it, can be revoked.
- Refresh tokens: 256-bit random, opaque, stored as HMAC hashes, issued to every client
  (clients such as Claude rarely ask for ``offline_access``), rotated on every use.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.observe.auth_events import auth_event
from oauth.scopes import scope_set
from oauth.server_context import GrantUser, ServerContext
from oauth.store.clients import touch_client
from oauth.store.issued_access_tokens import (
    IssuedAccessTokenRow,
    record_access_token,
    revoke_access_tokens,
    revoke_access_tokens_of,
)
from oauth.store.refresh_tokens import RefreshTokenRow, add_refresh_token, revoke_family, revoke_unused_siblings
from oauth.token_hashing import token_hash
from oauth.tokens.access_tokens import issue_access_token
from oauth.tokens.context import TokenContext
from oauth.tokens.revocation_list import RevokedTokens


def new_id() -> str:
    """A random row id (also the family id of tokens issued from an authorization code)."""
    return secrets.token_hex(16)


def issue_tokens(
    ctx: ServerContext,
    *,
    client_id: str,
    user: GrantUser,
    scope: str,
    resource: str,
    family_id: str,
    parent_id: str | None = None,
) -> dict[str, object]:
    """Mint an access token and a refresh token for one grant; return the RFC 6749 §5.1 body.

    ``parent_id`` is the refresh token this one is rotated from (None when issued for a code).
    """
    oauth = ctx.runtime.config.oauth
    ctx.events.append(
        auth_event(
            "token_issued",
            subject=user.subject,
            email=user.email,
            client_id=client_id,
            grant_type="authorization_code" if parent_id is None else "refresh_token",
            scope=scope,
            resource=resource,
        )
    )
    access_token, claims = issue_access_token(
        ctx.runtime.signing_keys,
        issuer=ctx.issuer,
        subject=user.subject,
        audience=resource,
        client_id=client_id,
        scopes=scope_set(scope),
        now=ctx.now,
        lifetime=oauth.access_token_lifetime,
        email=user.email,
    )
    refresh_token_id = new_id()
    record_access_token(
        ctx.db,
        IssuedAccessTokenRow(
            jti=claims.jwt_id,
            family_id=family_id,
            refresh_token_id=refresh_token_id,
            client_id=client_id,
            subject=user.subject,
            expires_at=ctx.now + timedelta(seconds=oauth.access_token_lifetime),
        ),
    )
    refresh_token = secrets.token_urlsafe(32)
    add_refresh_token(
        ctx.db,
        RefreshTokenRow(
            id=refresh_token_id,
            token_hash=token_hash(ctx.runtime.keyring, refresh_token),
            family_id=family_id,
            parent_id=parent_id,
            client_id=client_id,
            subject=user.subject,
            email=user.email,
            scope=scope,
            resource=resource,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=oauth.refresh_token_lifetime),
        ),
    )
    touch_client(ctx.db, client_id, ctx.now)
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": oauth.access_token_lifetime,
        "refresh_token": refresh_token,
        "scope": scope,
    }


@dataclass(frozen=True)
class RevokedGrants:
    """What a revocation did: grants (refresh families), refresh tokens and access tokens revoked now."""

    grants: int = 0
    refresh_tokens: int = 0
    access_tokens: int = 0


def revoke_grant(runtime: TokenContext, db: Session, family_id: str) -> RevokedGrants:
    """Revoke every refresh and access token of one grant (code replay, refresh replay, RFC 7009)."""
    return revoke_grants(db, [family_id], now=runtime.clock.now(), revoked_tokens=runtime.revoked_tokens)


def revoke_grants(
    db: Session, family_ids: Iterable[str], *, now: datetime, revoked_tokens: RevokedTokens | None
) -> RevokedGrants:
    """Revoke the refresh families and their access tokens (also in ``revoked_tokens`` when given).

    The access tokens are appended to ``revocation_events`` too, so other running processes learn of them.
    """
    grants = refresh = access = 0
    for family_id in family_ids:
        grants += 1
        refresh += revoke_family(db, family_id, now)
        rows = revoke_access_tokens(db, family_id=family_id, now=now)
        access += len(rows)
        forget_revoked(rows, revoked_tokens)
    return RevokedGrants(grants=grants, refresh_tokens=refresh, access_tokens=access)


def revoke_siblings(runtime: TokenContext, db: Session, kept: RefreshTokenRow) -> None:
    """The client used ``kept``: revoke its unused siblings and the access tokens minted with them.

    Siblings exist only after a reuse inside the grace window (:mod:`oauth.grants.refresh_token`);
    the access token minted with a dropped sibling must not outlive it (issue #15, finding 1).
    """
    now = runtime.clock.now()
    dropped = revoke_unused_siblings(db, kept, now)
    forget_revoked(revoke_access_tokens_of(db, dropped, now), runtime.revoked_tokens)


def forget_revoked(rows: Iterable[IssuedAccessTokenRow], revoked_tokens: RevokedTokens | None) -> None:
    """Put the revoked rows' ``jti`` on this process's revocation list (when one is given)."""
    if revoked_tokens is None:
        return
    for row in rows:
        revoked_tokens.revoke(row.jti, int(row.expires_at.timestamp()))
