"""Storage on SQLite and PostgreSQL: migrations and encrypted signing keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from joserfc import jwt
from sqlalchemy import select

from app import migrate
from app.crypto import DecryptionError, KeyRing, Sealer
from app.db import Base, create_db_engine, session_factory, transaction
from app.runtime import Runtime
from oauth.tokens.signing_keys import load_signing_keys, rotate_signing_key
from oauth.tokens.store.signing_keys import SigningKeyRow
from tests.support.clock import FakeClock


def test_migrations_bring_an_empty_database_to_the_newest_revision(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # idempotent
    assert migrate.is_current(engine)
    engine.dispose()


def test_the_migrations_create_exactly_what_the_models_declare(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_first_start_creates_one_encrypted_es256_signing_key(runtime: Runtime) -> None:
    with transaction(runtime.db) as db:
        [row] = db.scalars(select(SigningKeyRow)).all()
    assert row.algorithm == "ES256"
    assert '"d"' not in row.private_jwk_encrypted
    assert '"d"' not in row.public_jwk
    assert runtime.signing_keys.signing_key.kid == row.kid


def test_signing_key_does_not_decrypt_under_another_secret_key(runtime: Runtime) -> None:
    with transaction(runtime.db) as db, pytest.raises(DecryptionError):
        load_signing_keys(db, Sealer(KeyRing((b"x" * 32,))), runtime.clock.now())


def test_rotation_keeps_the_old_public_key_published_until_its_tokens_expire(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    old = runtime.signing_keys
    token = jwt.encode({"alg": "ES256", "kid": old.signing_key.kid}, {"sub": "alice"}, old.signing_key)
    with transaction(runtime.db) as db:
        new_kid = rotate_signing_key(db, runtime.sealer, clock.now(), overlap=timedelta(hours=1))
    with transaction(runtime.db) as db:
        rotated = load_signing_keys(db, runtime.sealer, clock.now())
    assert rotated.signing_key.kid == new_kid != old.signing_key.kid
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {new_kid, old.signing_key.kid}  # type: ignore[attr-defined]
    assert jwt.decode(token, rotated.verification_keys, algorithms=["ES256"]).claims["sub"] == "alice"
    clock.advance(3601)
    with transaction(runtime.db) as db:
        later = load_signing_keys(db, runtime.sealer, clock.now())
    assert [k["kid"] for k in later.jwks()["keys"]] == [new_kid]  # type: ignore[attr-defined]


def test_session_factory_commits_and_rolls_back_whole_units(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = session_factory(engine)
    sealer = Sealer(KeyRing((b"k" * 32,)))
    with pytest.raises(RuntimeError), transaction(factory) as db:
        rotate_signing_key(db, sealer, FakeClock().now(), overlap=timedelta(0))
        raise RuntimeError("abort")
    with transaction(factory) as db:
        assert db.scalars(select(SigningKeyRow)).all() == []
    engine.dispose()
