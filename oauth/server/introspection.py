"""Token introspection (RFC 7662) on Authlib's ``IntrospectionEndpoint``.

A client may introspect the tokens issued to it, and only those. The caller authenticates as that
client with the method it registered (RFC 7662 §2.1 requires some authorization): a confidential
client with its secret (``client_secret_basic``/``client_secret_post``; naming its ``client_id``
alone is 401 ``invalid_client``), a public client — which has no credential — with ``none``. For
a public client the authorization is possession of the token itself, so introspection tells it
nothing it could not read from the token (the access token is an unencrypted JWT; a refresh token
is an unguessable 256-bit secret), and no client can scan other clients' tokens: a token that is
unknown, expired, spent, revoked, or belongs to another client is ``{"active": false}``. There is
no resource-server role: Portico's own resource server verifies access tokens locally and does
not call this (issue #15, finding 10).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from oauth.server.token_queries import TokenQueries
from oauth.token_lookup import AccessTokenRecord, RefreshTokenRecord


class IntrospectionEndpoint(TokenQueries, _IntrospectionEndpoint):  # type: ignore[misc]
    def check_permission(self, token: AccessTokenRecord | RefreshTokenRecord, client: Any, request: Any) -> bool:
        return token.check_client(client)

    def create_introspection_payload(self, token: AccessTokenRecord | RefreshTokenRecord | None) -> dict[str, Any]:
        if token is None or token.is_revoked():
            return {"active": False}
        if isinstance(token, RefreshTokenRecord):
            return self._refresh_payload(token) if not token.is_expired() else {"active": False}
        return self._access_payload(token)

    def _access_payload(self, token: AccessTokenRecord) -> dict[str, Any]:
        claims = token.claims
        payload: dict[str, Any] = {
            "active": True,
            "token_type": "Bearer",
            "client_id": claims.client_id,
            "scope": token.get_scope(),
            "sub": claims.subject,
            "aud": claims.audience,
            "iss": claims.issuer,
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "jti": claims.jwt_id,
        }
        if claims.email is not None:
            payload["email"] = claims.email
        return payload

    def _refresh_payload(self, token: RefreshTokenRecord) -> dict[str, Any]:
        row = token.row
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": row.client_id,
            "scope": row.scope,
            "sub": row.subject,
            "aud": row.resource,
            "iss": self.ctx.issuer,
            "exp": int(row.expires_at.timestamp()),
            "iat": int(row.created_at.timestamp()),
        }
