"""Fixtures for the authorization server: two configured servers, a signed-in browser, the flow driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from app.runtime import Runtime, build_runtime
from oauth.login import api as login_api
from oauth.login.api import current_user
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.support.oauth import Browser, OAuthFlow

SERVERS = {
    "github": {"transport": "streamable-http", "url": "https://github-mcp.example/mcp", "title": "GitHub"},
    "jira": {"transport": "streamable-http", "url": "https://jira-mcp.example/mcp"},
}
RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[RuntimeFactory]:
    built: list[Runtime] = []

    def build(**overrides: Any) -> Runtime:
        overrides.setdefault("servers", SERVERS)
        runtime = build_runtime(make_config(**overrides), clock=clock, env={})
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        runtime.close()


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime()


@pytest.fixture
def browser(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Browser:
    state = Browser()

    async def may_continue(_runtime: Runtime, _subject: str) -> bool:
        return state.may_continue

    app.dependency_overrides[current_user] = lambda: state.user
    monkeypatch.setattr(login_api, "user_may_continue", may_continue)
    return state


@pytest.fixture
def flow(http: httpx2.AsyncClient, browser: Browser) -> OAuthFlow:
    return OAuthFlow(http)
