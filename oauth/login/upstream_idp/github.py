"""``type: github``: a GitHub OAuth app (github.com, or GitHub Enterprise Server via the URL keys).

GitHub is OAuth 2.0 without OpenID Connect: there is no ID token, so the identity comes from the
REST API with the user's access token (scopes ``read:user user:email read:org``):

- ``GET /user``: the numeric ``id`` (the stable subject; logins can be renamed), ``name``/``login``.
- ``GET /user/emails``: the address marked ``primary``; it counts as verified only when that same
  entry is ``verified`` (another verified address does not stand in for an unverified primary).
- ``GET /user/orgs``: organisation logins for ``allowed_orgs``, 100 per page, following the
  ``Link: rel="next"`` header (RFC 8288) up to :data:`MAX_ORG_PAGES` pages, and only to the API's
  own origin so the token never goes elsewhere. Organisations that restrict OAuth app access
  appear only once they approve the app.

The code exchange carries the PKCE verifier (GitHub supports S256) and ``state`` as for any IdP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2

from app.config.login_providers import GithubProviderConfig
from app.log import register_secret
from oauth.client.authlib_client import ClientSettings, OAuthClient
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.flow import UpstreamFlow
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.upstream_idp.claims import MAX_GROUPS, plausible_email
from oauth.login.upstream_idp.errors import UnusableIdentityError
from oauth.login.upstream_idp.prompt import github_prompt_params

GITHUB_API_HEADERS = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28"}
ORGS_PER_PAGE = 100
MAX_ORG_PAGES = 10

log = logging.getLogger("portico.login")


class GithubProvider:
    """Sign in with GitHub."""

    def __init__(self, config: GithubProviderConfig) -> None:
        self.config = config
        self.provider_id = config.id
        self.display_name = config.display_name
        self.api_base_url = config.api_base_url.rstrip("/")
        secret = config.client_secret.get_secret_value()
        register_secret(secret)
        settings = ClientSettings(
            name=config.id,
            client_id=config.client_id,
            client_secret=secret,
            scopes=config.scopes,
            authorization_endpoint=config.authorize_url,
            token_endpoint=config.token_url,
            auth_method="client_secret_post",
        )
        self.client = OAuthClient(settings)

    def accepts_issuer(self, iss: str) -> bool:
        # GitHub publishes no issuer identifier; its callback path is its own (RFC 9700 §4.4.2).
        return True

    async def authorization_url(self, flow: UpstreamFlow, *, redirect_uri: str, prompt: str | None = None) -> str:
        extra = github_prompt_params(prompt)
        return await self.client.authorization_url(flow, redirect_uri=redirect_uri, nonce=False, extra=extra)

    async def identity(self, *, code: str, flow: UpstreamFlow, redirect_uri: str, now: int) -> UpstreamIdentity:
        token = await self.client.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=flow.code_verifier)
        user = _json(await self._get(token, f"{self.api_base_url}/user"), dict, "/user")
        emails = _json(await self._get(token, f"{self.api_base_url}/user/emails"), list, "/user/emails")
        subject = user.get("id")
        if not isinstance(subject, int) or isinstance(subject, bool):
            raise UnusableIdentityError("GitHub's /user answer has no numeric id")
        email, verified = primary_email(emails)
        return UpstreamIdentity(
            provider=self.provider_id,
            provider_subject=str(subject),
            email=email,
            email_verified=verified,
            name=_name(user),
            orgs=await self._orgs(token),
        )

    async def _orgs(self, token: Mapping[str, Any]) -> tuple[str, ...]:
        url: str | None = f"{self.api_base_url}/user/orgs?per_page={ORGS_PER_PAGE}"
        logins: list[str] = []
        for _ in range(MAX_ORG_PAGES):
            if url is None:
                break
            response = await self._get(token, url)
            page = _json(response, list, "/user/orgs")
            logins.extend(org["login"] for org in page if isinstance(org, dict) and isinstance(org.get("login"), str))
            url = self._next_page(response)
        else:
            if url is not None:
                log.warning("GitHub organisations cut at %d pages (provider %s)", MAX_ORG_PAGES, self.provider_id)
        return tuple(logins[:MAX_GROUPS])

    def _next_page(self, response: httpx2.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if not url:
            return None
        if _origin(url) != _origin(self.api_base_url):
            raise AuthorizationServerUnavailableError("GitHub's pagination link points away from the API origin")
        return str(url)

    async def _get(self, token: Mapping[str, Any], url: str) -> httpx2.Response:
        response = await self.client.get(url, token, headers=GITHUB_API_HEADERS)
        if response.status_code != 200:
            path = urlsplit(url).path.removeprefix(urlsplit(self.api_base_url).path)
            raise AuthorizationServerUnavailableError(f"GitHub answered HTTP {response.status_code} for {path}")
        return response


def primary_email(emails: list[Any]) -> tuple[str, bool]:
    """The primary address of a ``/user/emails`` answer and whether that entry is verified.

    Raises:
        UnusableIdentityError: no entry is marked primary with a plausible address.
    """
    primary = next((entry for entry in emails if isinstance(entry, dict) and entry.get("primary") is True), None)
    value = primary.get("email") if primary is not None else None
    address = plausible_email(value) if isinstance(value, str) else None
    if primary is None or address is None:
        raise UnusableIdentityError("GitHub reports no primary email address (is the user:email scope granted?)")
    return address, primary.get("verified") is True


def _json(response: httpx2.Response, kind: type[Any], path: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, kind):
        raise AuthorizationServerUnavailableError(f"GitHub's {path} answer is not a JSON {kind.__name__}")
    return body


def _name(user: Mapping[str, Any]) -> str | None:
    for key in ("name", "login"):
        value = user.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:255]
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port
