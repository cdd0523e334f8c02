"""A real OpenID provider for tests: npm oidc-provider v9 (tests/node/idp/server.js) run by the Node 22 from npm.

    from tests.support.idp import IdpClient, sign_in_at_idp, start_idp

    with start_idp(clients=[IdpClient("portico", "s3cret", ["http://127.0.0.1:8080/auth/callback"])]) as idp:
        idp.issuer            # http://127.0.0.1:<free port>; discovery at idp.discovery_url

The login name chooses the user (any password): ``alice`` -> alice@example.com, verified, hd example.com;
a login with ``@`` is the email itself, hd its domain (none for gmail.com); ``unverified...`` -> email_verified
false; ``eng...`` -> groups ["engineering"]. Scopes: openid, email (email, email_verified, hd), profile (name,
preferred_username), groups (groups), offline_access. PKCE (S256) is required; a request with no scope gets
``openid``. ID tokens carry the scope's claims (``conformIdTokenClaims: false``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Page

from tests.support.processes import Process, free_port, start_process
from tests.support.requirements import NODE_DIR, require_node22, require_node_package

SERVER_JS = NODE_DIR / "idp" / "server.js"
CONFIG_ENV = "PORTICO_IDP_CONFIG"


@dataclass(frozen=True)
class IdpClient:
    """A client registered at the IdP. Without a secret it is public (auth method ``none``)."""

    client_id: str
    client_secret: str | None
    redirect_uris: Sequence[str]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Further oidc-provider client metadata, e.g. ``{"token_endpoint_auth_method": "client_secret_post"}``."""

    def to_json(self) -> dict[str, Any]:
        client: dict[str, Any] = {"client_id": self.client_id, "redirect_uris": list(self.redirect_uris)}
        if self.client_secret is not None:
            client["client_secret"] = self.client_secret
        return {**client, **self.metadata}


@dataclass(frozen=True)
class Idp:
    """A running IdP."""

    issuer: str
    port: int
    clients: tuple[IdpClient, ...]
    process: Process

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


@contextlib.contextmanager
def start_idp(
    clients: Sequence[IdpClient] = (), *, timeout: float = 30.0, rotate_refresh_tokens: bool | None = None
) -> Iterator[Idp]:
    """Start the IdP on a free 127.0.0.1 port; yields once discovery answers. Skips/fails when Node 22 is absent.

    ``rotate_refresh_tokens=True`` makes every refresh return a new refresh token (the old one is spent;
    using it again revokes the grant); unset keeps oidc-provider's default (rotation for public clients only).
    """
    node = require_node22()
    require_node_package("oidc-provider")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config: dict[str, Any] = {"issuer": issuer, "port": port, "clients": [client.to_json() for client in clients]}
    if rotate_refresh_tokens is not None:
        config["rotateRefreshToken"] = rotate_refresh_tokens
    with start_process(
        [node, SERVER_JS],
        port=port,
        ready_url=f"{issuer}/.well-known/openid-configuration",
        env={CONFIG_ENV: json.dumps(config)},
        cwd=SERVER_JS.parent,
        timeout=timeout,
        name="oidc-provider",
    ) as process:
        yield Idp(issuer=issuer, port=port, clients=tuple(clients), process=process)


async def sign_in_at_idp(page: Page, login: str, password: str = "any-password") -> None:
    """On the IdP's login page: sign in as ``login``, then approve the consent page.

    Returns once consent is submitted; the IdP then redirects to the client. Capture that redirect with
    ``async with page.expect_request(lambda r: r.url.startswith(redirect_uri)) as request_info:`` around this call
    (``page.route()`` does not see navigations reached through a redirect).
    """
    await page.locator('input[name="login"]').fill(login)
    await page.locator('input[name="password"]').fill(password)
    await page.locator('button[type="submit"]').click()
    await page.locator('input[name="prompt"][value="consent"]').wait_for(state="attached")
    await page.locator('button[type="submit"]').click()
