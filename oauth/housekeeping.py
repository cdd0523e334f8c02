"""Periodic clean-up: idle clients, expired codes/tokens/states, and the revoked-token list.

- Dynamically registered clients unused for ``oauth.client_idle_days`` are deleted with their
  codes, refresh tokens and consents (Claude registers a new client per fresh connection); a
  deleted client gets ``invalid_client`` at /token and registers again.
- Expired rows are purged (authorization codes a day after expiry, to keep recognising replays).
- Revoked access-token ``jti`` values are (re)loaded into ``runtime.revoked_tokens``, so a
  revocation made by another Portico process takes effect here within one interval at the latest:
  the fallback of the revocation-event source (:mod:`oauth.revocation_events`), which delivers it
  within about a second.
- The signing keys are reloaded, so a key published by ``portico keys rotate-signing`` (on any
  instance) is in this instance's JWKS within one interval, well before it starts signing.
"""

from __future__ import annotations

import functools
import logging
import math
from datetime import timedelta

import anyio

from app import used_states
from app.db import transaction
from app.db_executor import executor_for
from app.db_outage import DatabaseUnavailableError
from oauth.store import (
    authorization_codes,
    clients,
    consents,
    issued_access_tokens,
    refresh_tokens,
    revocation_events,
)
from oauth.tokens.context import TokenContext
from oauth.tokens.signing_keys import load_signing_keys

log = logging.getLogger("portico.oauth")
CODE_REPLAY_MEMORY = timedelta(days=1)
REVOCATION_SYNC_SECONDS = 60.0
PURGE_EVERY = 60  # revocation syncs, i.e. hourly


def delete_idle_clients(runtime: TokenContext) -> list[str]:
    """Delete clients unused for ``oauth.client_idle_days`` and everything issued to them."""
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        idle = clients.delete_idle_clients(db, now - timedelta(days=runtime.config.oauth.client_idle_days))
        if idle:
            authorization_codes.delete_client_codes(db, idle)
            refresh_tokens.delete_client_refresh_tokens(db, idle)
            consents.delete_consents(db, client_ids=idle)
    if idle:
        log.info("deleted %d idle client registration(s)", len(idle))
    return idle


def purge_expired(runtime: TokenContext) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        authorization_codes.delete_codes_expired_before(db, now - CODE_REPLAY_MEMORY)
        refresh_tokens.delete_refresh_tokens_expired_before(db, now)
        issued_access_tokens.delete_access_tokens_expired_before(db, now)
        revocation_events.delete_events_expired_before(db, now)
        used_states.delete_states_expired_before(db, now)


def sync_revocations(runtime: TokenContext) -> None:
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        for row in issued_access_tokens.revoked_unexpired(db, now):
            runtime.revoked_tokens.revoke(row.jti, int(row.expires_at.timestamp()))


def reload_signing_keys(runtime: TokenContext) -> None:
    """Replace ``runtime.signing_keys`` with the keys stored now (published, signing, scheduled)."""
    with transaction(runtime.db) as db:
        runtime.signing_keys = load_signing_keys(db, runtime.sealer, runtime.clock.now())


def housekeep(runtime: TokenContext) -> None:
    """One full pass (run at startup)."""
    delete_idle_clients(runtime)
    purge_expired(runtime)
    sync_revocations(runtime)


async def housekeep_forever(runtime: TokenContext) -> None:
    """Sync revocations every minute and purge every hour, until cancelled; failures are logged."""
    rounds = 0
    while True:
        await anyio.sleep(REVOCATION_SYNC_SECONDS)
        rounds += 1
        try:
            work = housekeep if rounds % PURGE_EVERY == 0 else sync_revocations
            await executor_for(runtime.engine).run(functools.partial(work, runtime), limit_seconds=math.inf)
            await executor_for(runtime.engine).run(
                functools.partial(reload_signing_keys, runtime), limit_seconds=math.inf
            )
        except DatabaseUnavailableError:
            pass  # the outage is logged once, on its transitions (app.db_outage)
        except Exception:
            log.exception("housekeeping failed; retrying later")
