"""Stored users for tests that need an account (email, IdP groups) without a sign-in flow."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db import run_db
from app.runtime import Runtime
from oauth.login.store.users import UserRow


async def add_user(runtime: Runtime, email: str, groups: list[str]) -> str:
    """Store a verified ``dev`` account for ``email`` with ``groups``, signed in now; its subject."""
    now = runtime.clock.now()

    def add(db: Session) -> str:
        row = UserRow(
            provider="dev",
            provider_subject=email,
            email=email,
            email_verified=True,
            groups=groups,
            first_sign_in_at=now,
            last_sign_in_at=now,
        )
        db.add(row)
        db.flush()
        return row.subject

    return await run_db(runtime.db, add)
