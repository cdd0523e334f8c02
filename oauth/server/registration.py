"""Dynamic Client Registration (RFC 7591) on Authlib's ``ClientRegistrationEndpoint``.

Registration is open (MCP clients register themselves) and rate-limited per client IP by the
endpoint. Authlib validates the RFC 7591 metadata; Portico adds:

- ``redirect_uris``: required, each ``https`` or loopback ``http``, no fragment, and within
  ``oauth.allowed_redirect_uris`` when set → otherwise ``invalid_redirect_uri``;
- ``token_endpoint_auth_method``: ``none`` (public) or ``client_secret_basic``/``_post``
  (confidential; RFC 7591's default). A confidential client's secret appears in this response
  only; Portico stores its HMAC hash;
- substituted values (§3.2.1 allows it): ``grant_types`` are always ``authorization_code`` and
  ``refresh_token``, ``response_types`` ``code``, and ``scope`` the lenient granted scope;
- ``client_name``: no control, bidi or zero-width characters, no mixed scripts
  (:mod:`app.display_names`) → otherwise ``invalid_client_metadata``;
- ``application_type`` ``web`` (default) or ``native``; ``client_id_issued_at`` from the clock.
"""

from __future__ import annotations

import secrets
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc7591 import (
    ClientMetadataClaims,
    ClientRegistrationEndpoint,
    InvalidClientMetadataError,
    InvalidRedirectURIError,
)

from app.display_names import display_name_problem
from app.identifiers import command_line_safe_token
from app.observe.auth_events import auth_event
from oauth.clients import GRANT_TYPES, PUBLIC, SECRET_METHODS
from oauth.redirect_uris import allowed_by_patterns, redirect_uri_problem
from oauth.scopes import granted_scope
from oauth.server_context import ServerContext
from oauth.store.clients import ClientRow, add_client
from oauth.token_hashing import token_hash

APPLICATION_TYPES = ("web", "native")
MAX_CLIENT_NAME = 200


class RegistrationEndpoint(ClientRegistrationEndpoint):  # type: ignore[misc]
    def __init__(self, server: Any) -> None:
        super().__init__(server, claims_classes=[ClientMetadataClaims])

    @property
    def ctx(self) -> ServerContext:
        context: ServerContext = self.server.ctx
        return context

    def authenticate_token(self, request: Any) -> bool:
        return True  # open registration; abuse is bounded by the per-IP rate limit and idle deletion

    def get_server_metadata(self) -> dict[str, list[str]]:
        """The values Authlib enforces; scopes and grant types are substituted instead (lenient)."""
        return {
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": [PUBLIC, *SECRET_METHODS],
        }

    def create_registration_response(self, request: Any) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        body = request.payload.data
        if not isinstance(body, dict):
            raise InvalidClientMetadataError("the request body must be a JSON object")
        self._check_redirect_uris(body.get("redirect_uris"))
        application_type = _application_type(body.get("application_type"))
        _check_client_name(body.get("client_name"))
        metadata: dict[str, Any] = self.extract_client_metadata(request)
        client_secret = None if metadata["token_endpoint_auth_method"] == PUBLIC else secrets.token_urlsafe(32)
        row = self._client_row(metadata, application_type, client_secret)
        add_client(self.ctx.db, row)
        self.ctx.events.append(
            auth_event(
                "client_registered",
                client_id=row.client_id,
                client_name=row.client_name,
                auth_method=row.token_endpoint_auth_method,
                registration="dynamic",
            )
        )
        return 201, client_information(row, client_secret), default_json_headers

    def _check_redirect_uris(self, uris: object) -> None:
        if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) for uri in uris):
            raise InvalidRedirectURIError("redirect_uris must be a non-empty list of URLs")
        patterns = self.ctx.runtime.config.oauth.allowed_redirect_uris
        for uri in uris:
            problem = redirect_uri_problem(uri)
            if problem is None and not allowed_by_patterns(uri, patterns):
                problem = "a redirect URI is not allowed by this server's policy"
            if problem is not None:
                raise InvalidRedirectURIError(problem)

    def _client_row(self, metadata: dict[str, Any], application_type: str, client_secret: str | None) -> ClientRow:
        ctx = self.ctx
        return ClientRow(
            client_id=command_line_safe_token(24),
            client_secret_hash=token_hash(ctx.runtime.keyring, client_secret) if client_secret else None,
            token_endpoint_auth_method=metadata["token_endpoint_auth_method"],
            client_name=metadata.get("client_name"),
            client_uri=metadata.get("client_uri"),
            logo_uri=metadata.get("logo_uri"),
            redirect_uris=list(metadata["redirect_uris"]),
            grant_types=list(GRANT_TYPES),
            response_types=["code"],
            scope=granted_scope(metadata.get("scope") if isinstance(metadata.get("scope"), str) else None),
            application_type=application_type,
            client_id_issued_at=ctx.now,
            last_used_at=ctx.now,
        )


def client_information(row: ClientRow, client_secret: str | None) -> dict[str, Any]:
    """The RFC 7591 §3.2.1 response: the registered metadata plus the issued credentials."""
    information: dict[str, Any] = {
        "client_id": row.client_id,
        "client_id_issued_at": int(row.client_id_issued_at.timestamp()),
        "redirect_uris": row.redirect_uris,
        "token_endpoint_auth_method": row.token_endpoint_auth_method,
        "grant_types": row.grant_types,
        "response_types": row.response_types,
        "scope": row.scope,
        "application_type": row.application_type,
    }
    if client_secret is not None:
        information["client_secret"] = client_secret
        information["client_secret_expires_at"] = 0
    for name in ("client_name", "client_uri", "logo_uri"):
        value = getattr(row, name)
        if value is not None:
            information[name] = value
    return information


def _application_type(value: object) -> str:
    if value is None:
        return "web"
    if value not in APPLICATION_TYPES:
        raise InvalidClientMetadataError("application_type must be web or native")
    return str(value)


def _check_client_name(value: object) -> None:
    """Our choice (issue #15 finding 7): a name that could disguise itself on the consent page is refused."""
    problem = None if value is None else display_name_problem(value, max_length=MAX_CLIENT_NAME)
    if problem is not None:
        raise InvalidClientMetadataError(f"client_name {problem}")
