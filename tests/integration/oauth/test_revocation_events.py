"""Revocation events between two Portico runtimes on one database (issue #15 finding 8, ADR 0009).

The source that ``portico serve`` runs (SQLite: watermark poll; PostgreSQL: LISTEN/NOTIFY) puts a
revocation recorded by another runtime on this runtime's in-memory list within seconds, without the
60 s reload.
"""

from __future__ import annotations

import time
from datetime import timedelta

import anyio
import pytest

from app.db import transaction
from app.runtime import Runtime
from oauth.housekeeping import sync_revocations
from oauth.revocation_events import deliver_to, revocation_event_source
from oauth.store.issued_access_tokens import IssuedAccessTokenRow, record_access_token, revoke_access_token
from tests.integration.oauth.conftest import RuntimeFactory

pytestmark = pytest.mark.anyio
BOUND_SECONDS = 15.0  # the poll runs every second; far below the 60 s reload


def record(runtime: Runtime, jti: str) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        row = IssuedAccessTokenRow(
            jti=jti, family_id="f", client_id="c", subject="s", expires_at=now + timedelta(hours=1)
        )
        record_access_token(db, row)


async def test_a_revocation_by_another_runtime_reaches_this_ones_list_within_seconds(
    make_runtime: RuntimeFactory,
) -> None:
    revoking, serving = make_runtime(), make_runtime()
    for jti in ("before-start", "while-running"):
        record(revoking, jti)
    source = await anyio.to_thread.run_sync(
        lambda: revocation_event_source(serving, resync=lambda: sync_revocations(serving))
    )
    with transaction(revoking.db) as db:  # after the watermark was read, before the source runs
        revoke_access_token(db, "before-start", revoking.clock.now())
    async with anyio.create_task_group() as group:
        group.start_soon(source.run, deliver_to(serving))
        await anyio.sleep(0.5)
        with transaction(revoking.db) as db:
            revoke_access_token(db, "while-running", revoking.clock.now())
        started, now = time.monotonic(), serving.clock.now().timestamp()
        while not all(serving.revoked_tokens.is_revoked(jti, now) for jti in ("before-start", "while-running")):
            assert time.monotonic() - started < BOUND_SECONDS, "not delivered"
            await anyio.sleep(0.1)
        group.cancel_scope.cancel()


async def test_a_rolled_back_revocation_is_not_delivered(make_runtime: RuntimeFactory) -> None:
    revoking, serving = make_runtime(), make_runtime()
    record(revoking, "kept")
    record(revoking, "marker")
    source = await anyio.to_thread.run_sync(
        lambda: revocation_event_source(serving, resync=lambda: sync_revocations(serving))
    )
    async with anyio.create_task_group() as group:
        group.start_soon(source.run, deliver_to(serving))
        await anyio.sleep(0.5)
        db = revoking.db()
        revoke_access_token(db, "kept", revoking.clock.now())
        db.rollback()
        db.close()
        with transaction(revoking.db) as db:
            revoke_access_token(db, "marker", revoking.clock.now())
        started, now = time.monotonic(), serving.clock.now().timestamp()
        while not serving.revoked_tokens.is_revoked("marker", now):
            assert time.monotonic() - started < BOUND_SECONDS, "not delivered"
            await anyio.sleep(0.1)
        assert not serving.revoked_tokens.is_revoked("kept", now)
        group.cancel_scope.cancel()
