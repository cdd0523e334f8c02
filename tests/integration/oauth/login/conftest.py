"""Sign-in fixtures: a runtime with the ``dev`` provider admitting example.com, and a sign-in helper."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.login.api import SignedInUser, current_user
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

DEV_LOGIN: dict[str, Any] = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

SignIn = Callable[..., Awaitable[httpx2.Response]]
PorticoFactory = Callable[..., Awaitable[tuple[Runtime, httpx2.AsyncClient]]]


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    """The shared runtime fixture, with the dev provider configured."""
    built = build_runtime(make_config(login=DEV_LOGIN), clock=clock, env={})
    yield built
    built.close()


async def whoami(user: Annotated[SignedInUser | None, Depends(current_user)]) -> JSONResponse:
    """A stand-in for an authorization-server page: the signed-in user as JSON, or 401."""
    if user is None:
        return JSONResponse({"user": None}, status_code=401)
    return JSONResponse({"subject": user.subject, "email": user.email, "login_session_id": user.login_session_id})


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app plus ``GET /whoami``."""
    app.add_api_route("/whoami", whoami, methods=["GET"])
    return app


def csrf_token(page: httpx2.Response) -> str:
    match = CSRF_TOKEN.search(page.text)
    assert match, "no csrf_token in the page"
    return match.group(1)


@pytest.fixture
def sign_in(http: httpx2.AsyncClient) -> SignIn:
    """Fill in and submit the dev sign-in form as a browser would; returns the POST's response."""

    async def submit(email: str, return_to: str = "/whoami", **form: str) -> httpx2.Response:
        page = await http.get("/login/dev", params={"return_to": return_to})
        assert page.status_code == 200
        data = {"email": email, "csrf_token": csrf_token(page), "return_to": return_to, **form}
        return await http.post("/login/dev", data=data)

    return submit


@pytest.fixture
async def portico_with(make_config: ConfigFactory, clock: FakeClock) -> AsyncIterator[PorticoFactory]:
    """Build further Porticos, each with its own ``login`` configuration (and ``/whoami``), and a client for each."""
    built: list[tuple[Runtime, httpx2.AsyncClient]] = []

    async def build(
        login: dict[str, Any], public_url: str = "http://127.0.0.1:8080"
    ) -> tuple[Runtime, httpx2.AsyncClient]:
        runtime = build_runtime(make_config(login=login, public_url=public_url), clock=clock, env={})
        app = create_app(runtime=runtime)
        app.add_api_route("/whoami", whoami, methods=["GET"])
        client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=public_url)
        built.append((runtime, client))
        return runtime, client

    yield build
    for runtime, client in built:
        await client.aclose()
        runtime.close()
