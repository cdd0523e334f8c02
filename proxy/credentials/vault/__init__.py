"""The credential vault: users' upstream credentials, sealed at rest (AES-256-GCM).

Each value is sealed (AES-256-GCM, :class:`~app.crypto.Sealer`) to the associated data
``user:<subject>|server:<server>|kind:<kind>``: a ciphertext moved to another user's row, another
server or another kind fails to decrypt and is treated as absent. :func:`open_credential` says
which it was (:class:`Opening`), for the resolver (:mod:`proxy.credentials.resolver`) and
``portico credentials explain``. Plaintext leaves this module only towards the resolver's readings
(:mod:`proxy.credentials.reading`) and the OAuth grants (:mod:`proxy.credentials.oauth.user_grants`),
which register it with the log redactor; it is never logged, never put in an error and never
returned by an API. All functions take a SQLAlchemy session (run them through :func:`app.db.run_db`).
The table is :mod:`proxy.credentials.vault.store`; docs/credentials.md, "Storage: the vault".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy.orm import Session

from app.crypto import Sealer
from app.crypto.sealing import DecryptionError
from proxy.credentials.vault.store import (
    credentials_of,
    delete_credential,
    find_credential,
    put_credential,
)

log = logging.getLogger("portico.credentials")
USER_TOKEN: Final = "user_token"  # noqa: S105 - a credential kind, not a secret


class Opening(StrEnum):
    """What became of a stored credential when it was read for its owner."""

    OPENED = "opened"
    ABSENT = "absent"  # no row for (subject, server)
    EXPIRED = "expired"  # the row's own expires_at has passed
    UNDECRYPTABLE = "undecryptable"  # of another kind, or sealed to another owner, server or kind


@dataclass(frozen=True)
class StoredCredential:
    """A user's stored credential for one server as read: the row's dates and its plaintext, or why none.

    ``secret`` (the plaintext, only when :attr:`opening` is ``OPENED``) is never in ``repr``.
    ``created_at``/``updated_at`` are the row's (UTC); None when there is no row.
    """

    opening: Opening
    secret: str | None = field(default=None, repr=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None


NOTHING_STORED: Final = StoredCredential(Opening.ABSENT)


def associated_data(*, subject: str, server: str, kind: str) -> str:
    """What a ciphertext is bound to (never stored: it is rebuilt from the row's own key)."""
    return f"user:{subject}|server:{server}|kind:{kind}"


def store_secret(
    db: Session,
    sealer: Sealer,
    *,
    subject: str,
    server: str,
    kind: str,
    secret: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> None:
    """Encrypt and save (or replace) the user's credential for ``server``."""
    ad = associated_data(subject=subject, server=server, kind=kind)
    ciphertext = sealer.encrypt(secret.encode(), associated_data=ad)
    put_credential(db, subject=subject, server=server, kind=kind, ciphertext=ciphertext, now=now, expires_at=expires_at)


def open_credential(
    db: Session, sealer: Sealer, *, subject: str, server: str, kind: str, now: datetime
) -> StoredCredential:
    """The user's credential of ``kind`` for ``server``, opened, or why it did not open.

    A row that does not decrypt for this owner (copied or tampered) is logged, without its value.
    """
    row = find_credential(db, subject=subject, server=server)
    if row is None:
        return NOTHING_STORED
    if row.expires_at is not None and row.expires_at <= now:
        return StoredCredential(Opening.EXPIRED, None, row.created_at, row.updated_at)
    if row.kind != kind:
        return StoredCredential(Opening.UNDECRYPTABLE, None, row.created_at, row.updated_at)
    try:
        plaintext = sealer.decrypt(
            row.ciphertext, associated_data=associated_data(subject=subject, server=server, kind=kind)
        )
    except DecryptionError:
        log.warning("stored credential of user %s for server %s does not decrypt; treated as absent", subject, server)
        return StoredCredential(Opening.UNDECRYPTABLE, None, row.created_at, row.updated_at)
    return StoredCredential(Opening.OPENED, plaintext.decode(), row.created_at, row.updated_at)


def load_secret(db: Session, sealer: Sealer, *, subject: str, server: str, kind: str, now: datetime) -> str | None:
    """The user's decrypted credential for ``server``, or None when absent, expired, of another kind,
    or not decryptable for this owner (see :func:`open_credential`)."""
    return open_credential(db, sealer, subject=subject, server=server, kind=kind, now=now).secret


def connected_servers(db: Session, subject: str, *, now: datetime) -> set[str]:
    """Servers for which the user has an unexpired stored credential (nothing is decrypted)."""
    return {row.server for row in credentials_of(db, subject) if row.expires_at is None or row.expires_at > now}


def forget_secret(db: Session, *, subject: str, server: str) -> bool:
    """Delete the user's credential for ``server``; True when one existed."""
    return delete_credential(db, subject=subject, server=server)
