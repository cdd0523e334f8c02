"""Housekeeping: idle client deletion, purging, revocation sync, and the user-disable hook."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import oauth.endpoints.router
from app.db import transaction
from app.runtime import Runtime
from oauth.consent.remembered import revoke_user_grants
from oauth.housekeeping import delete_idle_clients, housekeep, purge_expired, sync_revocations
from oauth.store.authorization_codes import AuthorizationCodeRow
from oauth.store.consents import ConsentRow
from oauth.store.issued_access_tokens import IssuedAccessTokenRow
from oauth.store.refresh_tokens import RefreshTokenRow
from oauth.tokens.revocation_list import RevokedTokens
from tests.support.clock import FakeClock
from tests.support.oauth import Browser, OAuthFlow, Pkce

pytestmark = pytest.mark.anyio
DAY = 86400


def count(runtime: Runtime, model: type) -> int:
    with transaction(runtime.db) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def jti_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


async def test_clients_unused_for_the_idle_period_are_deleted_with_their_grants(
    flow: OAuthFlow, runtime: Runtime, clock: FakeClock
) -> None:
    """Our choice (issue rule): ``oauth.client_idle_days`` (90 by default)."""
    idle = await flow.register()
    await flow.tokens(idle["client_id"])
    clock.advance(60 * DAY)
    active = await flow.register()
    await flow.tokens(active["client_id"])
    clock.advance(31 * DAY)
    assert delete_idle_clients(runtime) == [idle["client_id"]]
    with transaction(runtime.db) as db:
        assert db.scalars(select(RefreshTokenRow.client_id)).all() == [active["client_id"]]
        assert db.scalars(select(ConsentRow.client_id)).all() == [active["client_id"]]


async def test_using_a_client_keeps_it_alive(flow: OAuthFlow, runtime: Runtime, clock: FakeClock) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    clock.advance(20 * DAY)
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200
    clock.advance(80 * DAY)
    assert delete_idle_clients(runtime) == []


async def test_purge_removes_expired_rows_but_keeps_codes_a_day_for_replay_detection(
    flow: OAuthFlow, runtime: Runtime, clock: FakeClock
) -> None:
    client = await flow.register()
    await flow.tokens(client["client_id"])
    clock.advance(2 * 3600)
    purge_expired(runtime)
    assert (count(runtime, AuthorizationCodeRow), count(runtime, IssuedAccessTokenRow)) == (1, 0)
    clock.advance(31 * DAY)
    purge_expired(runtime)
    assert (count(runtime, AuthorizationCodeRow), count(runtime, RefreshTokenRow)) == (0, 0)


async def test_revocations_are_reloaded_into_the_process(flow: OAuthFlow, runtime: Runtime) -> None:
    """Our choice: a revocation made by another Portico process reaches this one at the next sync."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    await flow.http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]})
    runtime.revoked_tokens = RevokedTokens()  # a process that did not see the revocation
    sync_revocations(runtime)
    assert runtime.revoked_tokens.is_revoked(jti_of(tokens["access_token"]), runtime.clock.now().timestamp())


async def test_revoke_user_grants_removes_consents_refresh_tokens_and_access_tokens(
    flow: OAuthFlow, runtime: Runtime, browser: Browser
) -> None:
    """Our choice: the hook sign-in calls when a user is disabled."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    with transaction(runtime.db) as db:
        revoke_user_grants(db, "user-alice", now=runtime.clock.now(), revoked_tokens=runtime.revoked_tokens)
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await flow.introspect(client["client_id"], tokens["access_token"]))["active"] is False
    assert (await flow.authorize(client["client_id"], Pkce())).status_code == 200


async def test_revoke_user_grants_works_with_just_a_session_and_a_subject(flow: OAuthFlow, runtime: Runtime) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    with transaction(runtime.db) as db:
        revoke_user_grants(db, "user-alice")
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_the_app_lifespan_runs_housekeeping_at_startup(
    app: FastAPI, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[Runtime] = []
    monkeypatch.setattr(oauth.endpoints.router, "housekeep", runs.append)
    async with app.router.lifespan_context(app):
        assert runs == [runtime]


def test_a_full_housekeeping_pass_runs_on_an_empty_database(runtime: Runtime) -> None:
    housekeep(runtime)
