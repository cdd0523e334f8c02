"""The access token's ``sub`` is an opaque, stable subject (issue #15, finding 9), on SQLite and PostgreSQL.

Own design (ADR 0008): a new user gets 22 random URL-safe characters; a user created before
migration 0009 keeps ``str(users.id)``, so tokens, refresh tokens, consents and stored upstream
credentials issued before the migration (all keyed or sealed by subject) keep working.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from alembic import command
from joserfc import jwt
from sqlalchemy import text

from app.db import create_db_engine, transaction
from app.main import create_app
from app.migrate import alembic_config
from app.runtime import Runtime, build_runtime
from oauth.login.api import find_account, user_may_continue
from proxy.credentials.vault import USER_TOKEN, load_secret, store_secret
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.support.http_sign_in import DEV_PROVIDER, sign_in_and_get_tokens

pytestmark = pytest.mark.anyio
RESOURCE = "http://127.0.0.1:8080/time/mcp"
SETTINGS: dict[str, Any] = {
    "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
    "servers": {"time": {"transport": "stdio", "command": "mcp-server-time"}},
}


def subject_of(runtime: Runtime, access_token: str) -> str:
    subject: str = jwt.decode(access_token, runtime.signing_keys.verification_keys).claims["sub"]
    return subject


@pytest.fixture
def opened(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(**SETTINGS), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
async def browsers(opened: Runtime) -> AsyncIterator[list[httpx2.AsyncClient]]:
    """Two browsers (separate cookie jars) on one in-process Portico."""
    app = create_app(runtime=opened)
    transport = httpx2.ASGITransport(app=app)
    async with (
        httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as first,
        httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as second,
    ):
        yield [first, second]


async def test_a_new_users_sub_is_opaque_not_sequential_and_keeps_working_on_refresh(
    opened: Runtime, browsers: list[httpx2.AsyncClient]
) -> None:
    _, alice = await sign_in_and_get_tokens(browsers[0], "alice@example.com", RESOURCE)
    client_id, bob = await sign_in_and_get_tokens(browsers[1], "bob@example.com", RESOURCE)
    refresh = {"grant_type": "refresh_token", "refresh_token": bob["refresh_token"], "client_id": client_id}
    refreshed = await browsers[1].post("/token", data=refresh)

    subjects = [subject_of(opened, tokens["access_token"]) for tokens in (alice, bob)]
    assert all(len(s) >= 22 and not s.isdigit() for s in subjects), subjects
    assert subjects[0] != subjects[1]
    with transaction(opened.db) as db:
        accounts = [find_account(db, s) for s in subjects]
    assert [a.email if a else None for a in accounts] == ["alice@example.com", "bob@example.com"]
    assert refreshed.status_code == 200, refreshed.text  # the refresh grant finds the user by its subject
    assert subject_of(opened, refreshed.json()["access_token"]) == subjects[1]


async def test_a_user_from_before_the_migration_keeps_subject_1_and_its_grants_and_credentials(
    empty_database_url: str, make_config: ConfigFactory, clock: FakeClock, tmp_path: Path
) -> None:
    """The migration sets subject = str(id): what tokens, consents and sealed credentials already carry."""
    engine = create_db_engine(empty_database_url)
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, provider, provider_subject, email, email_verified, name, groups, domain,"
                " orgs, disabled, first_sign_in_at, last_sign_in_at) VALUES (1, 'dev', 'alice@example.com',"
                " 'alice@example.com', true, NULL, '[]', NULL, '[]', false, :now, :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
    engine.dispose()
    runtime = build_runtime(make_config(database_url=empty_database_url, **SETTINGS), clock=clock, env={})
    try:
        now = clock.now()
        with transaction(runtime.db) as db:  # what a pre-0009 Portico sealed for user 1
            store_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, secret="ghp_x", now=now)
        app = create_app(runtime=runtime)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as b:
            _, tokens = await sign_in_and_get_tokens(b, "alice@example.com", RESOURCE)
        assert subject_of(runtime, tokens["access_token"]) == "1"
        assert await user_may_continue(runtime, "1")  # an old refresh token's subject still passes
        with transaction(runtime.db) as db:
            assert load_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, now=now) == "ghp_x"
    finally:
        runtime.close()
