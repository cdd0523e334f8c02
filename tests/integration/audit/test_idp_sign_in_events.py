"""Sign-in events through an upstream IdP (a local GitHub stand-in): admitted, refused by a rule,
and refused because the IdP failed — with the provider and why, and no code or token in any row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from app.clock import epoch_seconds
from app.runtime import Runtime, build_runtime
from tests.conftest import ConfigFactory
from tests.integration.audit.rows import audit_rows
from tests.integration.oauth.login.standins.driver import sign_in
from tests.integration.oauth.login.standins.github import CLIENT_ID, CLIENT_SECRET, GithubStandIn
from tests.support.asgi_server import serve_asgi
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def github(clock: FakeClock) -> Iterator[GithubStandIn]:
    standin = GithubStandIn(clock=lambda: epoch_seconds(clock.now()))
    with serve_asgi(standin.app()) as base_url:
        standin.oauth.base_url = base_url
        yield standin


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock, github: GithubStandIn) -> Iterator[Runtime]:
    provider: dict[str, Any] = {
        "type": "github",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": f"{github.base_url}/login/oauth/authorize",
        "token_url": f"{github.base_url}/login/oauth/access_token",
        "api_base_url": f"{github.base_url}/api/",
    }
    login = {"providers": [provider], "allowed_orgs": ["portico-dev"]}
    built = build_runtime(make_config(login=login), clock=clock, env={})
    yield built
    built.close()


async def sign_in_rows(runtime: Runtime, database_url: str) -> list[dict[str, Any]]:
    assert runtime.audit is not None and await runtime.audit.drain()
    return [row for row in audit_rows(database_url) if str(row["kind"]).startswith("sign_in")]


async def test_idp_sign_ins_are_audited_with_the_provider_and_why(
    runtime: Runtime, http: httpx2.AsyncClient, github: GithubStandIn, database_url: str
) -> None:
    admitted = await sign_in(http, "github", "login", "octocat")  # a member of Portico-Dev
    refused = await sign_in(http, "github", "login", "joiner")  # in no allowed org
    github.oauth.token_error = "bad_verification_code"
    failed = await sign_in(http, "github", "login", "octocat")
    assert (admitted.status_code, refused.status_code, failed.status_code) == (303, 403, 502)
    rows = await sign_in_rows(runtime, database_url)
    assert [(row["kind"], row["outcome"]) for row in rows] == [
        ("sign_in", "ok"),
        ("sign_in_refused", "refused"),
        ("sign_in_refused", "refused"),
    ]
    assert all(row["details"] == {"provider": "github"} for row in rows)
    assert rows[0]["reason"] == "login.allowed_orgs" and rows[0]["subject"]
    assert rows[1]["reason"] == "login.allowed_orgs" and rows[1]["subject"] is None
    assert str(rows[2]["reason"]).startswith("idp_error:") and rows[2]["client_address"]
    dump = json.dumps(rows, default=str)
    assert CLIENT_SECRET not in dump
    issued = [*github.tokens, *github.tokens.values()]
    assert issued and not [value for value in issued if len(value) > 8 and value in dump]
