"""What the resolver needs to know of one user for one server, read in one transaction.

:func:`read` is the only I/O behind a decision: the user's account (groups, disabled) through
:func:`oauth.login.api.find_account`, and the stored credential of the server's per-user kind,
opened (:func:`proxy.credentials.vault.open_credential`). The gateway runs it on a worker thread
(:func:`app.db.run_db`); ``portico credentials explain`` and the ``/connections`` page run it
inside their own transaction. Only the gateway then refreshes an OAuth grant that is due
(:meth:`Readings.with_grant`); nothing here does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from app.config.schema import ServerConfig
from app.crypto import Sealer
from oauth.login.api import UserAccount, find_account
from proxy.credentials.groups import has_group_values
from proxy.credentials.oauth.grant import OAuthGrant
from proxy.credentials.vault import NOTHING_STORED, Opening, StoredCredential, open_credential


@dataclass(frozen=True)
class Readings:
    """``account``: None when no user has the subject; ``stored``: the user's credential of the
    server's per-user kind (the token, or the OAuth grant as JSON), or why there is none."""

    account: UserAccount | None
    stored: StoredCredential

    def with_grant(self, grant: OAuthGrant | None) -> Readings:
        """After the gateway's refresh: the grant it may use now (None: none is usable any more)."""
        if grant is None:
            return replace(self, stored=NOTHING_STORED)
        return replace(self, stored=replace(self.stored, opening=Opening.OPENED, secret=grant.to_json()))


NOBODY: Final = Readings(None, NOTHING_STORED)
"""Nothing read: a server whose presentation is the same for every user, or a shared process."""


def needs_reading(server: ServerConfig) -> bool:
    """True when what ``server`` is presented depends on the user (a per-user credential or group values)."""
    return server.per_user is not None or has_group_values(server.credentials)


def read(db: Session, sealer: Sealer, server: ServerConfig, *, name: str, subject: str, now: datetime) -> Readings:
    """The readings of ``subject`` for the server ``name``."""
    return _read(db, sealer, server, name, subject, now, find_account(db, subject))


def read_all(
    db: Session, sealer: Sealer, servers: Mapping[str, ServerConfig], *, subject: str, now: datetime
) -> dict[str, Readings]:
    """The readings of ``subject`` for every server (the account is read once)."""
    account = find_account(db, subject)
    return {name: _read(db, sealer, server, name, subject, now, account) for name, server in servers.items()}


def _read(
    db: Session,
    sealer: Sealer,
    server: ServerConfig,
    name: str,
    subject: str,
    now: datetime,
    account: UserAccount | None,
) -> Readings:
    spec = server.per_user
    if spec is None:
        return Readings(account, NOTHING_STORED)
    return Readings(account, open_credential(db, sealer, subject=subject, server=name, kind=spec.type, now=now))
