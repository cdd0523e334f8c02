"""Portico's client at one authorization server: Authlib's OAuth 2 clients, over httpx2.

Authlib builds the authorization URL (with the flow's ``state``, ``nonce`` and the PKCE S256
``code_challenge`` of RFC 7636 §4.2), redeems the code at the token endpoint with client
authentication (RFC 6749 §4.1.3), refreshes (RFC 6749 §6), revokes (RFC 7009 §2.1) and makes
bearer-authenticated API calls (RFC 6750 §2.1). Authlib keeps no state here: Portico's own flow
cookie carries ``state``/``nonce``/``code_verifier`` (:mod:`.flow`), and ID tokens are verified by
the sign-in package (joserfc), never by Authlib.

Failures become :mod:`.errors` exceptions: an OAuth error body from the token endpoint is a
:class:`TokenRequestError`; network errors, 5xx and non-JSON answers are
:class:`AuthorizationServerUnavailableError`. No message carries a token, code or secret. The
one module of Portico's OAuth client side that imports Authlib.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.starlette_client import OAuth

from oauth.client.errors import AuthorizationServerUnavailableError, TokenRequestError
from oauth.client.flow import UpstreamFlow
from oauth.client.http import TIMEOUT


@dataclass(frozen=True)
class ClientSettings:
    """One client registration and its authorization server's endpoints; ``auth_method`` per RFC 7591 §2."""

    name: str
    client_id: str
    client_secret: str | None
    scopes: Sequence[str]
    authorization_endpoint: str
    token_endpoint: str
    auth_method: str = "client_secret_basic"
    # Every call's HTTP goes through it when set (the SSRF guard of discovered endpoints).
    transport: httpx2.AsyncBaseTransport | None = None


class OAuthClient:
    """Authlib's ``StarletteOAuth2App`` (code flow, API calls) and ``AsyncOAuth2Client`` (refresh,
    revocation) for one registration, a new httpx2 client per call."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._app: Any = OAuth().register(
            name=settings.name,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            authorize_url=settings.authorization_endpoint,
            access_token_url=settings.token_endpoint,
            client_kwargs={
                "scope": " ".join(settings.scopes),
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": settings.auth_method,
                "timeout": TIMEOUT,
                "follow_redirects": False,
                **self._transport(),
            },
        )

    async def authorization_url(
        self, flow: UpstreamFlow, *, redirect_uri: str, nonce: bool, extra: Mapping[str, str] | None = None
    ) -> str:
        """The authorization request URL (RFC 6749 §4.1.1): code flow, ``state``, S256 challenge, ``nonce``.

        Raises:
            AuthorizationServerUnavailableError: Authlib could not build the request.
        """
        params: dict[str, str] = {"state": flow.state, "code_verifier": flow.code_verifier, **(extra or {})}
        if nonce:
            params["nonce"] = flow.nonce
        try:
            created = await self._app.create_authorization_url(redirect_uri, **params)
        except AuthlibBaseError:
            raise AuthorizationServerUnavailableError("the authorization request could not be built") from None
        url: str = created["url"]
        return url

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str, extra: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Redeem ``code`` at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5); the token response.

        ``extra`` adds form parameters to the token request, e.g. RFC 8707 ``resource``.

        Raises:
            TokenRequestError: the server answered with an OAuth error (e.g. ``invalid_grant``).
            AuthorizationServerUnavailableError: network failure, 5xx, or a body that is not a JSON object.
        """
        return await token_request(
            self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier, **(extra or {})
            )
        )

    async def refresh(self, refresh_token: str, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
        """A new token response for ``refresh_token`` (RFC 6749 §6); ``extra`` as for :meth:`exchange_code`.

        Raises:
            TokenRequestError: the server answered with an OAuth error (``invalid_grant`` included).
            AuthorizationServerUnavailableError: as :func:`token_request`.
        """
        async with self._token_client() as client:
            endpoint = self.settings.token_endpoint
            return await token_request(client.refresh_token(endpoint, refresh_token=refresh_token, **(extra or {})))

    async def revoke(self, endpoint: str, token: str, token_type_hint: str) -> None:
        """Revoke ``token`` at the revocation ``endpoint`` (RFC 7009 §2.1).

        Raises:
            AuthorizationServerUnavailableError: network failure or a status other than 200 (RFC 7009 §2.2).
        """
        async with self._token_client() as client:
            try:
                response = await client.revoke_token(endpoint, token=token, token_type_hint=token_type_hint)
            except httpx2.HTTPError as error:
                raise AuthorizationServerUnavailableError(
                    f"the revocation endpoint failed ({type(error).__name__})"
                ) from None
        if response.status_code != 200:
            raise AuthorizationServerUnavailableError(f"the revocation endpoint answered HTTP {response.status_code}")

    async def get(
        self, url: str, token: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> httpx2.Response:
        """GET ``url`` with the access token as a bearer credential (RFC 6750 §2.1).

        Raises:
            AuthorizationServerUnavailableError: the request failed on the network.
        """
        try:
            response: httpx2.Response = await self._app.get(url, token=dict(token), headers=dict(headers or {}))
        except httpx2.HTTPError as error:
            raise AuthorizationServerUnavailableError(f"an API call failed ({type(error).__name__})") from None
        except AuthlibBaseError:
            raise AuthorizationServerUnavailableError("the access token could not be used") from None
        return response

    def _token_client(self) -> AsyncOAuth2Client:
        settings = self.settings
        return AsyncOAuth2Client(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            token_endpoint_auth_method=settings.auth_method,
            revocation_endpoint_auth_method=settings.auth_method,
            timeout=TIMEOUT,
            follow_redirects=False,
            **self._transport(),
        )

    def _transport(self) -> dict[str, httpx2.AsyncBaseTransport]:
        transport = self.settings.transport
        return {"transport": transport} if transport is not None else {}


async def token_request(call: Awaitable[Mapping[str, Any]]) -> dict[str, Any]:
    """Await a token endpoint call made through Authlib (code, refresh); the token response.

    Raises:
        TokenRequestError: the endpoint answered with an OAuth error (e.g. ``invalid_grant``).
        AuthorizationServerUnavailableError: network failure, 5xx, a body that is not a JSON object, or
            no ``access_token``.
    """
    try:
        token = await call
    except AuthlibBaseError as error:
        raise TokenRequestError(str(error.error or "unknown_error"), error.description) from None
    except httpx2.HTTPError as error:
        raise AuthorizationServerUnavailableError(
            f"the token endpoint could not be used ({type(error).__name__})"
        ) from None
    except ValueError:
        raise AuthorizationServerUnavailableError("the token endpoint did not answer with a JSON object") from None
    if not isinstance(token.get("access_token"), str):
        raise AuthorizationServerUnavailableError("the token response has no access_token")
    return dict(token)
