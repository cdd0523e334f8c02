"""The ``users`` and ``login_sessions`` tables on SQLite and PostgreSQL, and the user administration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import transaction
from app.runtime import Runtime
from oauth.login.api import disable_user
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from oauth.login.store.login_sessions import LoginSessionRow
from oauth.login.store.users import UserRow, find_by_email
from oauth.login.users import AmbiguousEmailError, list_users, users_table

pytestmark = pytest.mark.anyio


def identity(email: str, provider: str = "dev") -> UpstreamIdentity:
    return UpstreamIdentity(provider=provider, provider_subject=email, email=email, email_verified=True)


async def test_sign_in_records_the_user_with_times_from_the_runtime_clock(runtime: Runtime) -> None:
    outcome = await sign_in(runtime, identity("Alice@Example.com"))
    assert outcome.login_session is not None
    with transaction(runtime.db) as db:
        [user] = db.scalars(select(UserRow)).all()
        [login_session] = db.scalars(select(LoginSessionRow)).all()
    now = runtime.clock.now()
    assert (user.email, user.first_sign_in_at, user.last_sign_in_at, user.disabled) == (
        "alice@example.com",
        now,
        now,
        False,
    )
    assert login_session.id == outcome.login_session.login_session_id and login_session.user_id == user.id


def test_provider_and_provider_subject_are_unique_together(runtime: Runtime) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def row(provider: str) -> UserRow:
        return UserRow(
            provider=provider,
            provider_subject="s-1",
            email="a@example.com",
            email_verified=True,
            groups=["g"],
            disabled=False,
            first_sign_in_at=now,
            last_sign_in_at=now,
        )

    with transaction(runtime.db) as db:
        db.add_all([row("dev"), row("google")])
    with pytest.raises(IntegrityError), transaction(runtime.db) as db:
        db.add(row("dev"))
    with transaction(runtime.db) as db:
        assert [u.groups for u in find_by_email(db, "A@Example.com")] == [["g"], ["g"]]


async def test_disable_user_disables_ends_sessions_and_returns_the_id(runtime: Runtime) -> None:
    await sign_in(runtime, identity("alice@example.com"))
    await sign_in(runtime, identity("bob@example.com"))
    with transaction(runtime.db) as db:
        user_id = disable_user(db, "ALICE@example.com")
    with transaction(runtime.db) as db:
        alice = db.scalars(select(UserRow).where(UserRow.email == "alice@example.com")).one()
        sessions = db.scalars(select(LoginSessionRow)).all()
        assert (alice.id, alice.disabled) == (user_id, True)
        assert [s.user_id for s in sessions] != [] and alice.id not in [s.user_id for s in sessions]
        assert disable_user(db, "nobody@example.com") is None


async def test_disable_user_refuses_an_email_shared_by_several_users(runtime: Runtime) -> None:
    await sign_in(runtime, identity("alice@example.com", provider="dev"))
    await sign_in(runtime, identity("alice@example.com", provider="dev2"))
    with pytest.raises(AmbiguousEmailError) as raised, transaction(runtime.db) as db:
        disable_user(db, "alice@example.com")
    assert len(raised.value.user_ids) == 2


async def test_users_table_lists_id_email_provider_disabled_and_last_sign_in(runtime: Runtime) -> None:
    with transaction(runtime.db) as db:
        assert users_table(list_users(db)) == "no users have signed in yet"
    await sign_in(runtime, identity("alice@example.com"))
    with transaction(runtime.db) as db:
        lines = users_table(list_users(db)).splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "PROVIDER", "DISABLED", "LAST", "SIGN-IN"]
    assert lines[1].split() == ["1", "alice@example.com", "dev", "no", "2026-01-01", "00:00:00Z"]
