"""The authorization endpoint's decisions (RFC 6749 §4.1.1–4.1.2), run inside the Authlib adapter.

:func:`validate_authorization` checks a request without issuing anything; :func:`issue_code`
checks it again (the client may have changed since) and issues a code. Failures are
:class:`AuthorizationFailure`: with ``redirect_uri`` None they happened before client and
redirect URI were validated and must be shown as a page, never redirected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Error

from app.observe.auth_events import auth_event
from oauth.clients import OAuthClient
from oauth.server_context import GrantUser
from oauth.store.consents import find_consent, save_consent
from oauth.tokens.resources import ProtectedResource

if TYPE_CHECKING:
    from oauth.server.authlib_server import PorticoAuthorizationServer, PorticoRequest


class AuthorizationFailure(Exception):  # noqa: N818 - carries an OAuth error; named for what it is
    """An authorization request refused with OAuth ``error``; redirect only when ``redirect_uri`` is set."""

    def __init__(self, error: str, description: str | None, redirect_uri: str | None, state: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True)
class ValidatedAuthorization:
    client: OAuthClient
    redirect_uri: str
    state: str | None
    scope: str
    resource: ProtectedResource
    consented: bool


def validate_authorization(
    server: PorticoAuthorizationServer, request: PorticoRequest, subject: str | None
) -> ValidatedAuthorization:
    """Validate the request; ``consented`` tells whether ``subject`` already approved this client and resource.

    Raises:
        AuthorizationFailure: the request is invalid.
    """
    grant = _grant(server, request, None)
    resource: ProtectedResource = request.resource
    client: OAuthClient = request.client
    consented = subject is not None and (
        find_consent(server.ctx.db, subject=subject, client_id=client.client_id, resource=resource.resource) is not None
    )
    return ValidatedAuthorization(
        client=client,
        redirect_uri=grant.redirect_uri,
        state=request.payload.state,
        scope=request.scope,
        resource=resource,
        consented=consented,
    )


def issue_code(
    server: PorticoAuthorizationServer, request: PorticoRequest, user: GrantUser, *, remember_consent: bool
) -> str:
    """Issue an authorization code for ``user``; return the redirect location (``code``, ``state``).

    Raises:
        AuthorizationFailure: the request is no longer valid.
    """
    grant = _grant(server, request, user)
    if remember_consent:
        ctx = server.ctx
        save_consent(
            ctx.db,
            subject=user.subject,
            client_id=request.client.client_id,
            resource=request.resource.resource,
            now=ctx.now,
        )
        ctx.events.append(
            auth_event(
                "consent_granted",
                subject=user.subject,
                email=user.email,
                client_id=request.client.client_id,
                resource=request.resource.resource,
                scope=request.payload.scope,
            )
        )
    _status, _body, headers = grant.create_authorization_response(grant.redirect_uri, user)
    location: str = dict(headers)["Location"]
    return location


def _grant(server: PorticoAuthorizationServer, request: PorticoRequest, user: GrantUser | None) -> Any:
    try:
        return server.get_consent_grant(request=request, end_user=user)
    except OAuth2Error as error:
        description = error.description or error.get_error_description()
        raise AuthorizationFailure(error.error, description, error.redirect_uri, request.payload.state) from error
