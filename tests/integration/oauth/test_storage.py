"""Authorization-server tables on SQLite and PostgreSQL: the migration, and the single-use primitives."""

from __future__ import annotations

from datetime import timedelta

from app.db import transaction
from app.runtime import Runtime
from app.used_states import spend_state
from oauth.store.authorization_codes import AuthorizationCodeRow, add_code, claim_code, find_code
from oauth.store.consents import delete_consents, find_consent, save_consent
from oauth.store.refresh_tokens import RefreshTokenRow, add_refresh_token, claim_refresh_token, revoke_family
from oauth.token_hashing import token_hash, token_hashes


def test_a_state_id_can_be_spent_once(runtime: Runtime) -> None:
    expires = runtime.clock.now() + timedelta(minutes=10)
    with transaction(runtime.db) as db:
        first = spend_state(db, "state-1", expires)
    with transaction(runtime.db) as db:
        second = spend_state(db, "state-1", expires)
        other = spend_state(db, "state-2", expires)
    assert (first, second, other) == (True, False, True)


def _code(runtime: Runtime, code: str) -> AuthorizationCodeRow:
    now = runtime.clock.now()
    return AuthorizationCodeRow(
        id="code-1",
        code_hash=token_hash(runtime.keyring, code),
        client_id="client-1",
        subject="user-1",
        email=None,
        redirect_uri="https://claude.ai/api/mcp/auth_callback",
        scope="mcp",
        resource="http://127.0.0.1:8080/github/mcp",
        code_challenge="c" * 43,
        code_challenge_method="S256",
        created_at=now,
        expires_at=now + timedelta(seconds=60),
    )


def test_an_authorization_code_is_found_by_hash_and_claimed_once(runtime: Runtime) -> None:
    with transaction(runtime.db) as db:
        add_code(db, _code(runtime, "the-code"))
    with transaction(runtime.db) as db:
        row = find_code(db, token_hashes(runtime.keyring, "the-code"))
        assert row is not None and find_code(db, token_hashes(runtime.keyring, "other")) is None
        assert claim_code(db, row.id, runtime.clock.now())
    with transaction(runtime.db) as db:
        assert not claim_code(db, "code-1", runtime.clock.now())


def _refresh(runtime: Runtime, token_id: str, family_id: str) -> RefreshTokenRow:
    now = runtime.clock.now()
    return RefreshTokenRow(
        id=token_id,
        token_hash=token_hash(runtime.keyring, token_id),
        family_id=family_id,
        client_id="client-1",
        subject="user-1",
        email=None,
        scope="mcp",
        resource="http://127.0.0.1:8080/github/mcp",
        created_at=now,
        expires_at=now + timedelta(days=30),
    )


def test_a_refresh_token_is_claimed_once_and_not_after_its_family_is_revoked(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        for token_id, family in (("rt-1", "fam-a"), ("rt-2", "fam-a"), ("rt-3", "fam-b")):
            add_refresh_token(db, _refresh(runtime, token_id, family))
    with transaction(runtime.db) as db:
        assert claim_refresh_token(db, "rt-1", now) and not claim_refresh_token(db, "rt-1", now)
        revoke_family(db, "fam-a", now)
        assert not claim_refresh_token(db, "rt-2", now)
        assert claim_refresh_token(db, "rt-3", now)


def test_consent_is_saved_found_and_deleted(runtime: Runtime) -> None:
    now = runtime.clock.now()
    key = {"subject": "user-1", "client_id": "client-1", "resource": "http://127.0.0.1:8080/github/mcp"}
    with transaction(runtime.db) as db:
        save_consent(db, now=now, **key)
        save_consent(db, now=now, **key)  # idempotent
    with transaction(runtime.db) as db:
        assert find_consent(db, **key) is not None
        assert delete_consents(db, subject="user-1", client_ids=["client-1"]) == 1
        assert find_consent(db, **key) is None
