"""What the revocation (RFC 7009) and introspection (RFC 7662) endpoints share: client
authentication methods, the call's :class:`~oauth.server_context.ServerContext`, and finding a
presented token (:func:`oauth.token_lookup.find_token`)."""

from __future__ import annotations

from typing import Any

from oauth.grants.authorization_code import CLIENT_AUTH_METHODS
from oauth.server_context import ServerContext
from oauth.token_lookup import find_token


class TokenQueries:
    """Mixed into Authlib's ``RevocationEndpoint`` / ``IntrospectionEndpoint`` (before them in the MRO)."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: Any  # set by Authlib: the AuthorizationServer this endpoint is registered on

    @property
    def ctx(self) -> ServerContext:
        context: ServerContext = self.server.ctx
        return context

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return find_token(self.ctx, token_string, token_type_hint)
