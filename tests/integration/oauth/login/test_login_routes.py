"""``/login`` (provider choice), ``/logout``, and which provider routes exist for which configuration."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.config import PorticoConfig
from app.main import create_app
from app.runtime import build_runtime
from tests.conftest import ConfigFactory
from tests.integration.oauth.login.conftest import DEV_LOGIN, SignIn, csrf_token
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


def app_with(make_config: ConfigFactory, clock: FakeClock, **overrides: Any) -> FastAPI:
    runtime = build_runtime(make_config(**overrides), clock=clock, env={})
    return create_app(runtime=runtime)


async def get(app: FastAPI, path: str, **params: str) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as http:
        return await http.get(path, params=params)


async def test_with_one_provider_login_goes_straight_to_it(http: httpx2.AsyncClient) -> None:
    response = await http.get("/login", params={"return_to": "/authorize?client_id=c&state=s"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login/dev?return_to=%2Fauthorize%3Fclient_id%3Dc%26state%3Ds"


async def test_login_drops_a_foreign_return_to(http: httpx2.AsyncClient) -> None:
    response = await http.get("/login", params={"return_to": "https://evil.com/"})
    assert response.headers["location"] == "/login/dev?return_to=%2F"


async def test_with_several_providers_login_offers_a_choice(make_config: ConfigFactory, clock: FakeClock) -> None:
    login = {**DEV_LOGIN, "providers": [{"type": "dev"}, {"type": "dev", "id": "dev2", "display_name": "Second"}]}
    app = app_with(make_config, clock, login=login)
    response = await get(app, "/login", return_to="/x")
    assert response.status_code == 200
    assert 'href="/login/dev?return_to=%2Fx"' in response.text
    assert 'href="/login/dev2?return_to=%2Fx"' in response.text and "Second" in response.text
    assert (await get(app, "/login/dev2")).status_code == 200
    app.state.runtime.close()


async def test_without_providers_login_explains_that_login_providers_is_empty(
    make_config: ConfigFactory, clock: FakeClock
) -> None:
    app = app_with(make_config, clock)
    response = await get(app, "/login", return_to="/x")
    assert response.status_code == 503
    assert "login.providers is empty" in response.text
    app.state.runtime.close()


async def test_the_dev_route_exists_only_when_the_dev_provider_is_configured(
    make_config: ConfigFactory, clock: FakeClock
) -> None:
    app = app_with(make_config, clock, login={"allowed_domains": ["example.com"]})
    assert (await get(app, "/login/dev")).status_code == 404
    app.state.runtime.close()


def test_the_dev_provider_is_refused_unless_public_url_is_loopback(secret_key: str) -> None:
    """Our rule: the dev provider signs in anyone who types an address, so never on a real origin."""
    with pytest.raises(ValidationError, match="only allowed when public_url is loopback"):
        PorticoConfig.model_validate(
            {"public_url": "https://gw.example.com", "secrets": {"secret_key": secret_key}, "login": DEV_LOGIN}
        )


async def test_logout_asks_for_confirmation_then_ends_the_session(http: httpx2.AsyncClient, sign_in: SignIn) -> None:
    await sign_in("alice@example.com")
    stolen = http.cookies["portico_login"]
    confirm = await http.get("/logout")
    assert confirm.status_code == 200 and "alice@example.com" in confirm.text
    response = await http.post("/logout", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 200
    assert any(c.startswith("portico_login=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))
    assert (await http.get("/whoami")).status_code == 401
    http.cookies.set("portico_login", stolen, domain="127.0.0.1")
    assert (await http.get("/whoami")).status_code == 401, "a copy of the cookie must not outlive sign-out"


async def test_logout_without_a_valid_csrf_token_keeps_the_session(http: httpx2.AsyncClient, sign_in: SignIn) -> None:
    await sign_in("alice@example.com")
    response = await http.post("/logout", data={"csrf_token": "1767225600.forged"})
    assert response.status_code == 403
    assert (await http.get("/whoami")).status_code == 200


async def test_logout_when_not_signed_in_says_so(http: httpx2.AsyncClient) -> None:
    page = await http.get("/logout")
    assert page.status_code == 200 and "You are not signed in" in page.text
    assert (await http.post("/logout")).status_code == 200
