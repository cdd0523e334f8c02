"""The credential vault: values encrypted per owner (our design; docs/credentials.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.db import transaction
from app.log import redact
from app.runtime import Runtime, build_runtime
from proxy.credentials.sources import VaultCredentials
from proxy.credentials.vault import USER_TOKEN, connected_servers, forget_secret, load_secret, store_secret
from proxy.credentials.vault.store import UpstreamCredentialRow

SECRET = "ghp_secretvalue1234567890"


def test_a_stored_token_is_encrypted_and_reads_back_for_its_owner(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, secret=SECRET, now=now)
    with transaction(runtime.db) as db:
        row = db.scalars(select(UpstreamCredentialRow)).one()
        assert SECRET not in row.ciphertext
        assert load_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, now=now) == SECRET
        assert connected_servers(db, "1", now=now) == {"gh"}
        assert connected_servers(db, "2", now=now) == set()


def test_a_row_copied_to_another_user_does_not_decrypt(runtime: Runtime) -> None:
    """Our design: associated data user:<subject>|server:<name>|kind:<kind> binds each ciphertext."""
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, secret=SECRET, now=now)
    with transaction(runtime.db) as db:
        stolen = db.scalars(select(UpstreamCredentialRow)).one().ciphertext
        db.add(
            UpstreamCredentialRow(
                subject="2", server="gh", kind=USER_TOKEN, ciphertext=stolen, created_at=now, updated_at=now
            )
        )
        db.add(
            UpstreamCredentialRow(
                subject="1", server="other", kind=USER_TOKEN, ciphertext=stolen, created_at=now, updated_at=now
            )
        )
    with transaction(runtime.db) as db:
        assert load_secret(db, runtime.sealer, subject="2", server="gh", kind=USER_TOKEN, now=now) is None
        assert load_secret(db, runtime.sealer, subject="1", server="other", kind=USER_TOKEN, now=now) is None
        assert load_secret(db, runtime.sealer, subject="1", server="gh", kind="oauth", now=now) is None


def test_expired_and_forgotten_tokens_are_absent(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(
            db,
            runtime.sealer,
            subject="1",
            server="gh",
            kind=USER_TOKEN,
            secret=SECRET,
            now=now,
            expires_at=now + timedelta(seconds=5),
        )
    with transaction(runtime.db) as db:
        later = now + timedelta(seconds=6)
        assert load_secret(db, runtime.sealer, subject="1", server="gh", kind=USER_TOKEN, now=later) is None
        assert forget_secret(db, subject="1", server="gh")
        assert not forget_secret(db, subject="1", server="gh")


@pytest.mark.anyio
async def test_vault_credentials_render_each_users_own_token_and_redact_it(make_config: Any, clock: Any) -> None:
    servers = {
        "gh": {
            "transport": "streamable-http",
            "url": "https://api.example.com/mcp",
            "headers": {"X-Static": "static-value-123"},
            "credentials": {"type": "user_token", "format": "Bearer {token}"},
        },
        "cli": {"transport": "stdio", "command": "x", "credentials": {"type": "user_token", "env": "CLI_TOKEN"}},
        "plain": {"transport": "stdio", "command": "x"},
    }
    runtime = build_runtime(make_config(servers=servers), clock=clock, env={})
    try:
        now = runtime.clock.now()
        with transaction(runtime.db) as db:
            for server in ("gh", "cli"):
                store_secret(db, runtime.sealer, subject="1", server=server, kind=USER_TOKEN, secret=SECRET, now=now)
        vault = VaultCredentials(runtime.config, db=runtime.db, sealer=runtime.sealer, clock=runtime.clock)
        assert vault.is_per_user("gh") and vault.is_per_user("cli") and not vault.is_per_user("plain")
        assert await vault.http_headers("1", "gh") == {
            "X-Static": "static-value-123",
            "Authorization": f"Bearer {SECRET}",
        }
        assert await vault.http_headers("2", "gh") == {"X-Static": "static-value-123"}
        assert await vault.stdio_env("1", "cli") == {"CLI_TOKEN": SECRET}
        assert await vault.stdio_env("2", "cli") == {}
        assert await vault.stdio_env(None, "cli") == {}
        assert [await vault.missing(s, n) for s, n in [("1", "gh"), ("2", "gh"), ("2", "plain")]] == [
            False,
            True,
            False,
        ]
        assert SECRET not in redact(f"upstream said {SECRET}")
    finally:
        runtime.close()
