"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.1 §4.3.1).

Every use returns a new refresh token and spends the old one. Presenting a spent token means
two parties hold it: the whole family is revoked, the newest token and its access tokens too.
Whether the user may still sign in is checked before this grant runs (see
:func:`oauth.endpoints.token.token`), since that check is asynchronous.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.oauth2.rfc6749 import grants

from oauth.grants.authorization_code import CLIENT_AUTH_METHODS
from oauth.resource_indicators import check_same_resource
from oauth.scopes import granted_scope
from oauth.server_context import GrantUser, ServerContext
from oauth.store.refresh_tokens import RefreshTokenRow, claim_refresh_token, find_refresh_token
from oauth.token_hashing import token_hashes
from oauth.tokens import issue_tokens, revoke_grant

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
        if row is None or not row.check_client(self.request.client) or row.revoked_at is not None:
            return None
        if row.used_at is not None or not claim_refresh_token(ctx.db, row.id, ctx.now):
            log.warning("refresh token replayed; revoking its family (client %s)", row.client_id)
            revoke_grant(ctx.runtime, ctx.db, row.family_id)
            return None
        return row if row.expires_at > ctx.now else None

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
        )

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Nothing to do: the token was claimed (marked used) when it was looked up."""
