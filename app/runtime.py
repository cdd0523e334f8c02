"""Everything a running Portico holds: config, storage, keys. Built once, before serving.

Part of the composition root: :class:`Runtime` satisfies the views the packages below declare
(:class:`app.context.AppContext`, :class:`oauth.tokens.context.TokenContext`); they never import it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.audit.trail import AuditTrail
from app.clock import Clock, SystemClock
from app.config import PorticoConfig
from app.crypto import KeyRing, Sealer, load_root_keys
from app.csrf import CsrfTokens
from app.db import create_db_engine, session_factory, transaction
from app.log import register_secret
from app.observe.bus import EventBus
from app.sealed_columns import refuse_unknown_key_rows
from oauth.tokens.resources import ResourceRegistry
from oauth.tokens.revocation_list import RevokedTokens
from oauth.tokens.signing_keys import SigningKeys, ensure_signing_key, load_signing_keys

log = logging.getLogger("portico")


@dataclass
class Runtime:
    config: PorticoConfig
    engine: Engine
    db: sessionmaker[Session]
    keyring: KeyRing
    sealer: Sealer
    signing_keys: SigningKeys
    clock: Clock
    resources: ResourceRegistry
    csrf: CsrfTokens
    revoked_tokens: RevokedTokens
    events: EventBus = field(default_factory=EventBus)
    audit: AuditTrail | None = None  # set by app.main.create_app when audit.enabled

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(
    config: PorticoConfig,
    *,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
    apply_migrations: bool = True,
) -> Runtime:
    """Load the secret keys, open the database, apply migrations and load the signing keys.

    Raises:
        app.crypto.RootKeyError: missing or malformed secret key; stored values sealed under a key
            that is not configured (:class:`app.sealed_columns.UnknownKeyRowsError`, naming the rows).
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    clock = clock or SystemClock()
    roots = load_root_keys(config, env)
    for root in roots:
        register_secret(root.hex())
    keyring = KeyRing(tuple(roots))
    sealer = Sealer(keyring)
    if apply_migrations:
        _migrate(config.database_url)
    engine = create_db_engine(config.database_url, config.database)
    factory = session_factory(engine)
    try:
        with transaction(factory) as db:
            refuse_unknown_key_rows(db, sealer)
            ensure_signing_key(db, sealer, clock.now())
            signing_keys = load_signing_keys(db, sealer, clock.now())
    except BaseException:
        engine.dispose()
        raise
    return Runtime(
        config=config,
        engine=engine,
        db=factory,
        keyring=keyring,
        sealer=sealer,
        signing_keys=signing_keys,
        clock=clock,
        resources=ResourceRegistry(config),
        csrf=CsrfTokens(keyring),
        revoked_tokens=RevokedTokens(),
    )


def _migrate(database_url: str) -> None:
    """Migrations on their own engine: the serving engine's statement timeout must not cut them short."""
    engine = create_db_engine(database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
