"""An in-process Portico whose clock can jump ahead, an oidc-provider as the upstream's authorization
server, and the SDK fixture server (which echoes the ``Authorization`` it got) as the upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from playwright.async_api import Page
from sqlalchemy import select

from app.db import run_db
from proxy.credentials.oauth.grant import OAuthGrant
from proxy.credentials.oauth.user_grants import OAuthGrants
from proxy.credentials.vault.store import UpstreamCredentialRow
from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_http_server,
    fixture_stdio_server,
    free_port,
    serve_portico,
)
from tests.support.idp import Idp, IdpClient, sign_in_at_idp, start_idp
from tests.support.pages import sign_in_with_dev_form

CLIENT_ID = "portico-upstream"
CLIENT_SECRET = "upstream-client-secret"  # noqa: S105 - a test client's secret
LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}


class ShiftedClock:
    """The system clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class OAuthSetup:
    portico: Portico
    idp: Idp
    clock: ShiftedClock

    @property
    def grants(self) -> OAuthGrants:
        grants: OAuthGrants = self.portico.gateway.credentials.source.oauth_grants  # type: ignore[attr-defined]
        return grants

    async def subject_of(self, server: str = "up") -> list[str]:
        """Subjects with a stored credential for ``server``."""
        query = select(UpstreamCredentialRow.subject).where(UpstreamCredentialRow.server == server)
        return await run_db(self.portico.runtime.db, lambda db: list(db.scalars(query)))

    async def grant(self, subject: str, server: str = "up") -> OAuthGrant | None:
        return await self.grants.load(subject, server)

    async def idp_refresh(self, refresh_token: str) -> httpx2.Response:
        """Use ``refresh_token`` at the IdP directly (to check that it was revoked)."""
        async with httpx2.AsyncClient() as http:
            return await http.post(
                f"{self.idp.issuer}/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=(CLIENT_ID, CLIENT_SECRET),
            )

    async def idp_revoke(self, token: str) -> None:
        async with httpx2.AsyncClient() as http:
            response = await http.post(
                f"{self.idp.issuer}/token/revocation", data={"token": token}, auth=(CLIENT_ID, CLIENT_SECRET)
            )
        assert response.status_code == 200


@asynccontextmanager
async def oauth_setup(tmp_path: Path, *, stdio: bool = False, **credentials: Any) -> AsyncIterator[OAuthSetup]:
    """Portico with server ``up`` (``credentials: oauth`` against the IdP), the IdP, the upstream.

    The upstream is the SDK fixture server over Streamable HTTP (the token in ``Authorization``), or
    with ``stdio`` a child process per user (the token in its ``UP_TOKEN`` environment variable).
    """
    port = free_port()
    client = IdpClient(CLIENT_ID, CLIENT_SECRET, [f"http://127.0.0.1:{port}/connections/up/callback"])
    with start_idp([client], rotate_refresh_tokens=True) as idp, fixture_http_server() as url:
        oauth = {
            "type": "oauth",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "issuer": idp.issuer,
            "scopes": ["openid", "offline_access"],
            **credentials,
        }
        http = {"transport": "streamable-http", "url": url}
        if stdio:
            oauth = {**oauth, "env": "UP_TOKEN", "format": "{token}"}
        upstream = fixture_stdio_server() if stdio else http
        servers = {"up": {**upstream, "title": "Upstream", "credentials": oauth}}
        clock = ShiftedClock()
        async with _serve(tmp_path, port, servers, clock) as portico:
            yield OAuthSetup(portico, idp, clock)


@asynccontextmanager
async def serve_portico_with(tmp_path: Path, servers: dict[str, Any]) -> AsyncIterator[tuple[Portico, ShiftedClock]]:
    """In-process Portico (dev sign-in, SQLite) with ``servers`` and a clock the test can move."""
    clock = ShiftedClock()
    async with _serve(tmp_path, free_port(), servers, clock) as portico:
        yield portico, clock


@asynccontextmanager
async def _serve(tmp_path: Path, port: int, servers: dict[str, Any], clock: ShiftedClock) -> AsyncIterator[Portico]:
    async with serve_portico(tmp_path, servers, port=port, clock=clock, login=LOGIN) as portico:
        yield portico


async def sign_in_to_portico(page: Page, base_url: str, email: str) -> None:
    """Open /connections, sign in with the dev form, land back on /connections."""
    await page.goto(f"{base_url}/connections")
    await sign_in_with_dev_form(page, email)
    await page.wait_for_url(lambda url: url.startswith(f"{base_url}/connections"))


async def connect_in_browser(page: Page, base_url: str, idp_login: str) -> str:
    """On /connections: press Connect, sign in and consent at the IdP; returns the callback URL it used."""
    async with page.expect_request(lambda r: r.url.startswith(f"{base_url}/connections/up/callback")) as callback:
        await page.get_by_role("button", name="Connect Upstream").click()
        await sign_in_at_idp(page, idp_login)
    await page.wait_for_url(lambda url: url.startswith(f"{base_url}/connections?"))
    request = await callback.value
    return request.url
