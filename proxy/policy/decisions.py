"""Access decisions cached with the verified token: per (``jti``, server), until the token's ``exp``.

A client keeps one access token for its lifetime (an hour by default), so :class:`PolicyDecisions`
decides a principal's :class:`~app.policy.access.ServerAccess` once per (token, server) and every
later request of that token reads it back with one dictionary lookup (:meth:`PolicyDecisions.cached`):
no database, no rule evaluation (``ServerAccess`` memoises each name's answer too).

The cold path (:meth:`PolicyDecisions.access`) builds the :class:`~app.policy.principal.Principal`:
email and IdP groups from the stored account (:func:`oauth.login.api.find_account`, read on the
bounded database executor through :func:`app.db.run_db`, like the credential reads of
:mod:`proxy.credentials.sources`), ``client_id`` from the token. A database outage raises
:class:`~app.db_outage.DatabaseUnavailableError` there (the endpoints answer 503 + ``Retry-After``);
nothing is cached then. Concurrent first requests of one token share one read. A subject without
an account is decided with the token's email and no groups; a disabled account may use nothing.

Entries die with their token: at ``max_entries`` the expired ones are dropped first, then the oldest tenth.
Group changes therefore apply to the next token (at most ``oauth.access_token_lifetime`` later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.db import run_db
from app.policy.access import AccessPolicy, ServerAccess, TargetKind
from app.policy.principal import Principal
from oauth.login.api import UserAccount, find_account
from oauth.tokens.access_tokens import AccessTokenClaims

DEFAULT_MAX_ENTRIES: Final = 10_000


def _nothing(_kind: TargetKind, _name: str) -> bool:
    return False


class PolicyDecisions:
    """``(jwt_id, server) → ServerAccess`` for ``policy``, bounded by ``max_entries``; ``now`` in epoch seconds."""

    def __init__(
        self,
        policy: AccessPolicy,
        *,
        db: sessionmaker[Session],
        now: Callable[[], float],
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.policy = policy
        self._db = db
        self._now = now
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[ServerAccess, int]] = {}
        self._deciding: dict[tuple[str, str], anyio.Event] = {}

    def cached(self, jwt_id: str, server: str) -> ServerAccess | None:
        """The warm path: the decision already taken for this token and server, or None."""
        hit = self._entries.get((jwt_id, server))
        return hit[0] if hit is not None else None

    async def access(self, claims: AccessTokenClaims, server: str) -> ServerAccess:
        """The access of the token's principal to ``server``: cached, else decided (one database read).

        Raises:
            app.db_outage.DatabaseUnavailableError: the account could not be read (nothing cached).
        """
        key = (claims.jwt_id, server)
        hit = self._entries.get(key)
        if hit is not None:
            return hit[0]
        waiting = self._deciding.get(key)
        if waiting is not None:  # the same token's first requests arrive together: one read for all
            await waiting.wait()
            hit = self._entries.get(key)
            if hit is not None:
                return hit[0]
        done = self._deciding[key] = anyio.Event()
        try:
            account = await run_db(self._db, lambda db: find_account(db, claims.subject))
            access = self.decide(claims, account, server)
            self._store(key, access, claims.expires_at)
        finally:
            if self._deciding.get(key) is done:
                del self._deciding[key]
            done.set()
        return access

    def decide(self, claims: AccessTokenClaims, account: UserAccount | None, server: str) -> ServerAccess:
        """The policy's decision for the token's principal (pure: no I/O)."""
        if account is not None and account.disabled:
            return ServerAccess(server, usable=False, decide=_nothing, usable_rule="account.disabled")
        principal = Principal(
            subject=claims.subject,
            email=account.email if account is not None else claims.email,
            groups=account.groups if account is not None else (),
            client_id=claims.client_id,
        )
        return self.policy.access(principal, server)

    def _store(self, key: tuple[str, str], access: ServerAccess, expires_at: int) -> None:
        if len(self._entries) >= self._max_entries:
            now = self._now()
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            if len(self._entries) >= self._max_entries:  # all live: drop the oldest tenth at once
                oldest = list(self._entries)[: max(1, self._max_entries // 10)]
                for stale in oldest:
                    del self._entries[stale]
        self._entries[key] = (access, expires_at)

    def __len__(self) -> int:
        return len(self._entries)
