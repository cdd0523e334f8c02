"""Token revocation (RFC 7009) on Authlib's ``RevocationEndpoint``.

Revoking a refresh token revokes its whole grant: every refresh token of the family and the
access tokens issued from it (RFC 7009 §2.1: "SHOULD also invalidate all access tokens based on
the same authorization grant"). Revoking an access token revokes that token only. Unknown and
already-invalid tokens are answered 200, as §2.2 requires.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from app.observe.auth_events import auth_event
from oauth.grant_tokens import revoke_grant
from oauth.server.token_queries import TokenQueries
from oauth.store.issued_access_tokens import revoke_access_token
from oauth.token_lookup import AccessTokenRecord, RefreshTokenRecord


class RevocationEndpoint(TokenQueries, _RevocationEndpoint):  # type: ignore[misc]
    def revoke_token(self, token: AccessTokenRecord | RefreshTokenRecord, request: Any) -> None:
        ctx = self.ctx
        if isinstance(token, RefreshTokenRecord):
            revoked = revoke_grant(ctx.runtime, ctx.db, token.row.family_id)
            ctx.events.append(
                auth_event(
                    "token_revoked",
                    subject=token.row.subject,
                    email=token.row.email,
                    client_id=token.row.client_id,
                    reason="revocation_request",
                    revoked="grant",
                    refresh_tokens=str(revoked.refresh_tokens),
                    access_tokens=str(revoked.access_tokens),
                )
            )
            return
        revoke_access_token(ctx.db, token.claims.jwt_id, ctx.now)  # also tells the other processes
        ctx.runtime.revoked_tokens.revoke(token.claims.jwt_id, token.claims.expires_at)
        ctx.events.append(
            auth_event(
                "token_revoked",
                subject=token.claims.subject,
                client_id=token.claims.client_id,
                reason="revocation_request",
                revoked="access_token",
            )
        )
