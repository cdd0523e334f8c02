"""``consent_denied`` in the audit trail after a real HTTP flow (dev sign-in, /authorize, the consent
page): the user's Deny (reason ``user``) and a server the access policy refuses at /authorize (reason
``policy``, the 403 page and the ``prompt=none`` redirect) — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from tests.conftest import ConfigFactory
from tests.integration.audit.rows import audit_rows
from tests.support.clock import FakeClock
from tests.support.http_sign_in import DEV_PROVIDER, authorize_as, sign_in_and_get_tokens
from tests.support.oauth import CLAUDE_CALLBACK, Pkce, hidden_input, query_of

pytestmark = pytest.mark.anyio
TIME = "http://127.0.0.1:8080/time/mcp"
CLOCK = "http://127.0.0.1:8080/clock/mcp"
SERVER = {"transport": "stdio", "command": "mcp-server-time"}
SETTINGS: dict[str, Any] = {
    "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
    "servers": {"time": SERVER, "clock": SERVER},
    "policy": {
        "default": "deny",
        "rules": [
            {"effect": "allow", "domains": ["example.com"], "servers": {"time": {}}},
            {"effect": "allow", "groups": ["engineering"], "servers": {"clock": {}}},
        ],
    },
}


@pytest.fixture
def opened(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(**SETTINGS), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
async def browser(opened: Runtime) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=create_app(runtime=opened))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


async def denials(runtime: Runtime, database_url: str) -> list[dict[str, Any]]:
    assert runtime.audit is not None and await runtime.audit.drain()  # in-process: no lifespan drainer
    return audit_rows(database_url, kind="consent_denied")


def subject_of(database_url: str) -> str:
    subject: str = audit_rows(database_url, kind="sign_in")[0]["subject"]
    return subject


async def alice_in(runtime: Runtime, *groups: str) -> None:
    """Alice signs in again at the dev IdP, which now sends ``groups`` (stored for the policy)."""
    await sign_in(runtime, UpstreamIdentity("dev", "alice@example.com", "alice@example.com", True, groups=groups))


async def test_deny_on_the_consent_page_is_audited_as_the_users_refusal(
    opened: Runtime, browser: httpx2.AsyncClient, database_url: str
) -> None:
    client_id, page = await authorize_as(browser, "alice@example.com", TIME, Pkce())
    assert page.status_code == 200 and 'name="decision"' in page.text
    answer = {"csrf": hidden_input(page.text, "csrf"), "state": hidden_input(page.text, "state"), "decision": "deny"}
    refused = await browser.post("/consent", data=answer)
    assert query_of(refused.headers["location"])["error"] == "access_denied"

    (row,) = await denials(opened, database_url)
    assert (row["outcome"], row["reason"], row["email"], row["client_id"]) == (
        "refused",
        "user",
        "alice@example.com",
        client_id,
    )
    assert row["subject"] == subject_of(database_url)
    assert row["details"] == {"resource": TIME, "server": "time", "step": "consent"}
    assert row["request_id"] and row["client_address"] == "127.0.0.1"
    assert answer["csrf"] not in str(row) and answer["state"] not in str(row)


async def test_approving_records_no_denial(opened: Runtime, browser: httpx2.AsyncClient, database_url: str) -> None:
    await sign_in_and_get_tokens(browser, "alice@example.com", TIME)
    assert await denials(opened, database_url) == []


async def test_a_server_the_policy_refuses_at_authorize_is_audited_for_the_page_and_for_prompt_none(
    opened: Runtime, browser: httpx2.AsyncClient, database_url: str
) -> None:
    client_id, page = await authorize_as(browser, "alice@example.com", CLOCK, Pkce())
    assert page.status_code == 403 and 'name="decision"' not in page.text
    silent_client, silent = await authorize_as(browser, "alice@example.com", CLOCK, Pkce(), prompt="none")
    assert silent.headers["location"].startswith(CLAUDE_CALLBACK)
    assert query_of(silent.headers["location"])["error"] == "access_denied"

    shown, redirected = await denials(opened, database_url)
    subject = subject_of(database_url)
    for row, client in ((shown, client_id), (redirected, silent_client)):
        assert (row["outcome"], row["reason"], row["subject"], row["email"], row["client_id"]) == (
            "refused",
            "policy",
            subject,
            "alice@example.com",
            client,
        )
        assert row["details"] == {"resource": CLOCK, "server": "clock", "step": "authorize"}


async def test_an_approval_the_policy_no_longer_allows_is_audited_as_the_policys_refusal(
    opened: Runtime, browser: httpx2.AsyncClient, database_url: str
) -> None:
    await authorize_as(browser, "alice@example.com", TIME, Pkce())  # signed in (no groups), page left open
    await alice_in(opened, "engineering")
    client_id, page = await authorize_as(browser, "alice@example.com", CLOCK, Pkce())
    assert page.status_code == 200 and 'name="decision"' in page.text
    await alice_in(opened)  # the group is gone before she answers
    answer = {"csrf": hidden_input(page.text, "csrf"), "state": hidden_input(page.text, "state"), "decision": "approve"}
    refused = await browser.post("/consent", data=answer)
    assert query_of(refused.headers["location"])["error"] == "access_denied"

    (row,) = await denials(opened, database_url)
    assert (row["reason"], row["client_id"], row["subject"]) == ("policy", client_id, subject_of(database_url))
    assert row["details"] == {"resource": CLOCK, "server": "clock", "step": "consent"}
