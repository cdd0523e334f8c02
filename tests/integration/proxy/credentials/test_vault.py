"""The credential vault: values encrypted per owner (our design; docs/credentials.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import transaction
from app.runtime import Runtime
from proxy.credential_vault import USER_TOKEN, connected_servers, forget_secret, load_secret, store_secret
from proxy.store.upstream_credentials import UpstreamCredentialRow

SECRET = "ghp_secretvalue1234567890"


def test_a_stored_token_is_encrypted_and_reads_back_for_its_owner(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(db, runtime.envelope, subject="1", server="gh", kind=USER_TOKEN, secret=SECRET, now=now)
    with transaction(runtime.db) as db:
        row = db.scalars(select(UpstreamCredentialRow)).one()
        assert SECRET not in row.ciphertext
        assert load_secret(db, runtime.envelope, subject="1", server="gh", kind=USER_TOKEN, now=now) == SECRET
        assert connected_servers(db, "1", now=now) == {"gh"}
        assert connected_servers(db, "2", now=now) == set()


def test_a_row_copied_to_another_user_does_not_decrypt(runtime: Runtime) -> None:
    """Our design: associated data user:<subject>|server:<name>|kind:<kind> binds each ciphertext."""
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(db, runtime.envelope, subject="1", server="gh", kind=USER_TOKEN, secret=SECRET, now=now)
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
        assert load_secret(db, runtime.envelope, subject="2", server="gh", kind=USER_TOKEN, now=now) is None
        assert load_secret(db, runtime.envelope, subject="1", server="other", kind=USER_TOKEN, now=now) is None
        assert load_secret(db, runtime.envelope, subject="1", server="gh", kind="oauth", now=now) is None


def test_expired_and_forgotten_tokens_are_absent(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        store_secret(
            db,
            runtime.envelope,
            subject="1",
            server="gh",
            kind=USER_TOKEN,
            secret=SECRET,
            now=now,
            expires_at=now + timedelta(seconds=5),
        )
    with transaction(runtime.db) as db:
        later = now + timedelta(seconds=6)
        assert load_secret(db, runtime.envelope, subject="1", server="gh", kind=USER_TOKEN, now=later) is None
        assert forget_secret(db, subject="1", server="gh")
        assert not forget_secret(db, subject="1", server="gh")
