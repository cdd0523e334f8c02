"""The authorization code grant (RFC 6749 §4.1, OAuth 2.1 §4.1) on Authlib, with Portico's rules.

- PKCE S256 is mandatory (:class:`oauth.pkce.S256CodeChallenge`).
- ``resource`` (RFC 8707) is resolved at /authorize and bound to the code; /token may repeat it.
- Codes are single-use and live ``oauth.authorization_code_lifetime`` seconds. Redeeming claims
  the code atomically *before* the remaining checks, so any second presentation, successful or
  not, is a replay: it is refused and revokes every token issued from the code (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, grants

from app.observe.auth_events import auth_event
from oauth.errors import InvalidTargetError
from oauth.grant_tokens import issue_tokens, new_id, revoke_grant
from oauth.resource_indicators import check_same_resource, resolve_resource
from oauth.server_context import GrantUser, ServerContext
from oauth.store.authorization_codes import AuthorizationCodeRow, add_code, claim_code, find_code
from oauth.store.clients import touch_client
from oauth.token_hashing import token_hash, token_hashes

log = logging.getLogger("portico.oauth")
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def ctx(self) -> ServerContext:
        context: ServerContext = self.server.ctx
        return context

    @staticmethod
    def validate_authorization_redirect_uri(request: Any, client: Any) -> str:
        """Like Authlib's, without echoing the (attacker-chosen) URI in the error description."""
        redirect_uri: str | None = request.payload.redirect_uri
        if redirect_uri:
            if not client.check_redirect_uri(redirect_uri):
                raise InvalidRequestError("redirect_uri is not registered for this client")
            return redirect_uri
        default: str | None = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("redirect_uri is required")
        return default

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        requested = self.request.payload.datalist.get("resource", [])
        try:
            self.request.resource = resolve_resource(self.ctx.runtime.resources, requested)
        except InvalidTargetError as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx, data = self.ctx, request.payload.data
        lifetime = ctx.runtime.config.oauth.authorization_code_lifetime
        row = AuthorizationCodeRow(
            id=new_id(),
            code_hash=token_hash(ctx.runtime.keyring, code),
            client_id=request.client.client_id,
            subject=request.user.subject,
            email=request.user.email,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope,
            resource=request.resource.resource,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=lifetime),
        )
        add_code(ctx.db, row)
        touch_client(ctx.db, row.client_id, ctx.now)

    def query_authorization_code(self, code: str, client: Any) -> AuthorizationCodeRow | None:
        ctx = self.ctx
        row = find_code(ctx.db, token_hashes(ctx.runtime.keyring, code))
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None or not claim_code(ctx.db, row.id, ctx.now):
            log.warning("authorization code replayed; revoking its tokens (client %s)", row.client_id)
            revoked = revoke_grant(ctx.runtime, ctx.db, row.id)
            ctx.events.append(
                auth_event(
                    "token_revoked",
                    subject=row.subject,
                    email=row.email,
                    client_id=row.client_id,
                    reason="authorization_code_replay",
                    access_tokens=str(revoked.access_tokens),
                    refresh_tokens=str(revoked.refresh_tokens),
                )
            )
            return None
        return row if row.expires_at > ctx.now else None

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = self.request.payload.datalist.get("resource", [])
        check_same_resource(self.request.authorization_code.resource, requested)

    def authenticate_user(self, authorization_code: AuthorizationCodeRow) -> GrantUser:
        return GrantUser(subject=authorization_code.subject, email=authorization_code.email)

    def generate_token(
        self,
        user: GrantUser | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, object]:
        code: AuthorizationCodeRow = self.request.authorization_code
        assert user is not None
        return issue_tokens(
            self.ctx, client_id=code.client_id, user=user, scope=code.scope, resource=code.resource, family_id=code.id
        )

    def delete_authorization_code(self, authorization_code: AuthorizationCodeRow) -> None:
        """Nothing to do: the code was claimed (marked used) when it was looked up."""
