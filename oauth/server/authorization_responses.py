"""How the authorization endpoint answers: a redirect to the client, or a page.

Redirects to the client (RFC 6749 §4.1.2 and §4.1.2.1) always carry ``iss`` (RFC 9207) and the
client's ``state``. A failure without a validated redirect URI is shown as an error page and
never redirected (§4.1.2.1: "MUST NOT automatically redirect the user-agent to the invalid
redirection URI").
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from app.web import error_page
from oauth.server.authorization import AuthorizationFailure

ERROR_TITLES = {
    "invalid_client": "Unknown application",
    "invalid_request": "Invalid authorization request",
}


def with_params(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to its query (its own query parameters are kept)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def client_redirect(location: str, issuer: str) -> RedirectResponse:
    """302 to the client with the issuer added (RFC 9207 §2)."""
    response = RedirectResponse(with_params(location, {"iss": issuer}), status_code=302)
    response.headers["cache-control"] = "no-store"
    return response


def failure_response(request: Request, issuer: str, failure: AuthorizationFailure) -> Response:
    if failure.redirect_uri is None:
        title = ERROR_TITLES.get(failure.error, "Authorization request refused")
        return error_page(request, title, failure.description or failure.error, status_code=400)
    params = {"error": failure.error, "error_description": failure.description, "state": failure.state}
    return client_redirect(with_params(failure.redirect_uri, params), issuer)


def access_denied(redirect_uri: str, state: str | None, description: str) -> AuthorizationFailure:
    return AuthorizationFailure("access_denied", description, redirect_uri, state)
