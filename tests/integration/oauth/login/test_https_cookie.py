"""Over https the login session cookie is ``__Host-portico_login``, Secure; the bare name is ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.login.session.codecs import login_codecs
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from tests.conftest import ConfigFactory
from tests.integration.oauth.login.conftest import whoami
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
async def https(make_config: ConfigFactory, clock: FakeClock) -> AsyncIterator[tuple[Runtime, httpx2.AsyncClient]]:
    config = make_config(public_url="https://gw.example.com", login={"allowed_domains": ["example.com"]})
    runtime = build_runtime(config, clock=clock, env={})
    app = create_app(runtime=runtime)
    app.add_api_route("/whoami", whoami, methods=["GET"])
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="https://gw.example.com") as client:
        yield runtime, client
    runtime.close()


async def test_only_the_host_prefixed_cookie_is_read_and_it_is_reissued_secure(
    https: tuple[Runtime, httpx2.AsyncClient], clock: FakeClock
) -> None:
    runtime, client = https
    identity = UpstreamIdentity(provider="oidc", provider_subject="s1", email="a@example.com", email_verified=True)
    outcome = await sign_in(runtime, identity)
    assert outcome.login_session is not None
    value = login_codecs(runtime.keyring).login_session.seal(outcome.login_session)

    bare = await client.get("/whoami", headers={"cookie": f"portico_login={value}"})
    assert bare.status_code == 401
    clock.advance(120)
    prefixed = await client.get("/whoami", headers={"cookie": f"__Host-portico_login={value}"})
    assert prefixed.status_code == 200
    refreshed = prefixed.headers["set-cookie"]
    assert refreshed.startswith("__Host-portico_login=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(refreshed.split("; "))
