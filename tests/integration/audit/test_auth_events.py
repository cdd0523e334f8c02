"""Authorization events in the audit trail after a real flow: dev sign-in (admitted and refused),
registration, consent, code exchange, refresh, refresh-token reuse, revocation, a failed token
request and a consent revoked — on SQLite and PostgreSQL, with no secret value in any row."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from app.main import create_app
from app.runtime import Runtime, build_runtime
from tests.conftest import ConfigFactory
from tests.integration.audit.rows import audit_rows
from tests.support.clock import FakeClock
from tests.support.http_sign_in import DEV_PROVIDER, sign_in_and_get_tokens
from tests.support.oauth import hidden_input

pytestmark = pytest.mark.anyio
RESOURCE = "http://127.0.0.1:8080/time/mcp"
SETTINGS: dict[str, Any] = {
    "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
    "servers": {"time": {"transport": "stdio", "command": "mcp-server-time"}},
}
GRACE = 10  # oauth.refresh_token_reuse_grace's default


@pytest.fixture
def opened(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(**SETTINGS), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
async def browser(opened: Runtime) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(runtime=opened)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


async def flushed_rows(runtime: Runtime, database_url: str) -> list[dict[str, Any]]:
    assert runtime.audit is not None and await runtime.audit.drain()  # in-process: no lifespan drainer
    return audit_rows(database_url)


async def test_a_full_authorization_flow_is_audited_without_secrets(
    opened: Runtime, browser: httpx2.AsyncClient, clock: FakeClock, database_url: str
) -> None:
    client_id, tokens = await sign_in_and_get_tokens(browser, "alice@example.com", RESOURCE)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
    refreshed = await browser.post("/token", data=refresh)
    assert refreshed.status_code == 200, refreshed.text
    clock.advance(GRACE + 1)
    replayed = await browser.post("/token", data=refresh)
    assert replayed.json()["error"] == "invalid_grant"
    unsupported = await browser.post("/token", data={"grant_type": "password", "client_id": client_id})
    assert unsupported.status_code == 400
    second_client, second = await sign_in_and_get_tokens(browser, "alice@example.com", RESOURCE)
    revoked = await browser.post("/revoke", data={"token": second["refresh_token"], "client_id": second_client})
    assert revoked.status_code == 200
    page = await browser.get("/consent")
    answer = {"csrf": hidden_input(page.text, "csrf"), "client_id": second_client}
    assert (await browser.post("/consent/revoke", data=answer)).status_code == 303

    rows = await flushed_rows(opened, database_url)
    kinds = [row["kind"] for row in rows]
    assert kinds[:5] == ["client_registered", "sign_in", "consent_granted", "token_issued", "token_issued"]
    sign_in = rows[1]
    assert (sign_in["email"], sign_in["outcome"], sign_in["details"]) == (
        "alice@example.com",
        "ok",
        {"provider": "dev"},
    )
    assert sign_in["reason"] == "login.allowed_domains" and sign_in["subject"]
    subject = sign_in["subject"]
    code_grant, refresh_grant = rows[3], rows[4]
    assert code_grant["details"]["grant_type"] == "authorization_code"
    assert (refresh_grant["details"]["grant_type"], refresh_grant["subject"]) == ("refresh_token", subject)
    assert code_grant["client_id"] == client_id and code_grant["details"]["resource"] == RESOURCE
    reuse = next(row for row in rows if row["kind"] == "refresh_reuse_detected")
    assert (reuse["outcome"], reuse["reason"], reuse["subject"]) == ("refused", "spent_token_replayed", subject)
    failures = [row for row in rows if row["kind"] == "token_request_failed"]
    assert [(f["details"]["grant_type"], f["reason"]) for f in failures] == [
        ("refresh_token", "invalid_grant"),
        ("password", "unsupported_grant_type"),
    ]
    revocations = [row for row in rows if row["kind"] == "token_revoked"]
    assert [r["reason"] for r in revocations] == ["refresh_token_reuse", "revocation_request"]
    assert revocations[1]["client_id"] == second_client and revocations[1]["details"]["revoked"] == "grant"
    (consent_revoked,) = [row for row in rows if row["kind"] == "consent_revoked"]
    assert (consent_revoked["client_id"], consent_revoked["subject"]) == (second_client, subject)
    assert all(row["request_id"] for row in rows)
    assert all(row["client_address"] == "127.0.0.1" for row in rows if row["kind"] == "token_request_failed")

    dump = json.dumps(rows, default=str)
    secrets = [tokens["access_token"], tokens["refresh_token"], second["access_token"], second["refresh_token"]]
    secrets += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
    secrets += [cookie.value for cookie in browser.cookies.jar if cookie.value]
    secrets.append(answer["csrf"])
    assert secrets and not [s for s in secrets if s in dump]


async def test_a_refused_sign_in_is_audited_with_the_rules_that_refused(
    opened: Runtime, browser: httpx2.AsyncClient, database_url: str
) -> None:
    form_page = await browser.get("/login/dev", params={"return_to": "/consent"})
    form = {
        "email": "mallory@evil.example",
        "csrf_token": hidden_input(form_page.text, "csrf_token"),
        "return_to": hidden_input(form_page.text, "return_to"),
    }
    refused = await browser.post("/login/dev", data=form)
    assert "Access denied" in refused.text
    (row,) = await flushed_rows(opened, database_url)
    assert (row["kind"], row["outcome"], row["email"], row["subject"]) == (
        "sign_in_refused",
        "refused",
        "mallory@evil.example",
        None,
    )
    assert row["reason"] and row["details"] == {"provider": "dev"}
