"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.1 §4.3.1).

Every use returns a new refresh token and spends the old one. Presenting a spent token means
two parties hold it: the whole family is revoked, the newest token and its access tokens too.

Reuse grace window (``oauth.refresh_token_reuse_grace``, 10 s by default): clients such as Claude
may refresh concurrently with one token. A spent token presented again by the same client within
the window, while no token rotated from it has been used yet, gets ONE fresh pair in the same family
instead of a revocation (``reused_at`` marks it, atomically); presenting it yet again is theft. The
sibling left unused is revoked as soon as the client uses the other one, together with the access
token minted with it (issue #15, finding 1: a thief racing inside the window keeps nothing), so one
branch survives; presenting such a revoked sibling later is theft too. Outside the window, or once
a successor was used, it is theft.

Whether the user may still sign in is checked before this grant runs (see
:func:`oauth.endpoints.token.token`), since that check is asynchronous.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.oauth2.rfc6749 import grants

from app.observe.auth_events import auth_event
from oauth.grant_tokens import issue_tokens, revoke_grant, revoke_siblings
from oauth.grants.authorization_code import CLIENT_AUTH_METHODS
from oauth.resource_indicators import check_same_resource
from oauth.scopes import granted_scope
from oauth.server_context import GrantUser, ServerContext
from oauth.store.refresh_tokens import (
    RefreshTokenRow,
    a_child_was_used,
    claim_refresh_token,
    claim_reuse,
    find_refresh_token,
)
from oauth.token_hashing import token_hashes

log = logging.getLogger("portico.oauth")


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def ctx(self) -> ServerContext:
        context: ServerContext = self.server.ctx
        return context

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshTokenRow | None:
        ctx = self.ctx
        row = find_refresh_token(ctx.db, token_hashes(ctx.runtime.keyring, refresh_token))
        if row is None or not row.check_client(self.request.client):
            return None
        if row.revoked_at is not None:
            # A revoked token in a live family is a sibling the client moved on from: its holder is
            # someone else. (A revoked family stays revoked; this is then a no-op.)
            _reuse_detected(ctx, row, "revoked_token_presented")
            return None
        if row.used_at is None:
            if row.expires_at <= ctx.now:
                return None
            if claim_refresh_token(ctx.db, row.id, ctx.now):
                revoke_siblings(ctx.runtime, ctx.db, row)
                return row
        if self._within_reuse_grace(row) and claim_reuse(ctx.db, row.id, ctx.now):
            log.info("spent refresh token presented again within the grace window (client %s)", row.client_id)
            return row
        log.warning("refresh token replayed; revoking its family (client %s)", row.client_id)
        _reuse_detected(ctx, row, "spent_token_replayed")
        return None

    def _within_reuse_grace(self, row: RefreshTokenRow) -> bool:
        """A concurrent refresh, not a theft: spent moments ago and no successor used yet."""
        ctx = self.ctx
        ctx.db.refresh(row)  # the claim may have lost to a concurrent request: read its used_at
        grace = ctx.runtime.config.oauth.refresh_token_reuse_grace
        return (
            grace > 0
            and row.revoked_at is None
            and row.used_at is not None
            and row.expires_at > ctx.now
            and (ctx.now - row.used_at).total_seconds() <= grace
            and not a_child_was_used(ctx.db, row.id)
        )

    def _validate_token_scope(self, token: RefreshTokenRow) -> None:
        """Lenient: a narrower or odd scope is reduced in :meth:`issue_token`, never refused."""

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = self.request.payload.datalist.get("resource", [])
        check_same_resource(self.request.refresh_token.resource, requested)

    def issue_token(self, user: GrantUser, refresh_token: RefreshTokenRow) -> dict[str, object]:
        scope = granted_scope(self.request.payload.scope, within=refresh_token.scope)
        return self.generate_token(user=user, scope=scope, include_refresh_token=True)

    def authenticate_user(self, refresh_token: RefreshTokenRow) -> GrantUser:
        return GrantUser(subject=refresh_token.subject, email=refresh_token.email)

    def generate_token(
        self,
        user: GrantUser | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, object]:
        previous: RefreshTokenRow = self.request.refresh_token
        assert user is not None and scope is not None
        return issue_tokens(
            self.ctx,
            client_id=previous.client_id,
            user=user,
            scope=scope,
            resource=previous.resource,
            family_id=previous.family_id,
            parent_id=previous.id,
        )

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Nothing to do: the token was claimed (marked used) when it was looked up."""


def _reuse_detected(ctx: ServerContext, row: RefreshTokenRow, reason: str) -> None:
    """Revoke the token's family and note both events (OAuth 2.1 §4.3.1)."""
    revoked = revoke_grant(ctx.runtime, ctx.db, row.family_id)
    ctx.events.append(
        auth_event(
            "refresh_reuse_detected",
            outcome="refused",
            subject=row.subject,
            email=row.email,
            client_id=row.client_id,
            reason=reason,
        )
    )
    ctx.events.append(
        auth_event(
            "token_revoked",
            subject=row.subject,
            email=row.email,
            client_id=row.client_id,
            reason="refresh_token_reuse",
            revoked="grant",
            refresh_tokens=str(revoked.refresh_tokens),
            access_tokens=str(revoked.access_tokens),
        )
    )
