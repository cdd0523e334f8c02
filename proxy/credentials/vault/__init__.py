"""The credential vault: users' upstream credentials, encrypted at rest with the Envelope.

Each value is sealed (AES-256-GCM, :class:`~app.crypto.Envelope`) to the associated data
``user:<subject>|server:<server>|kind:<kind>``: a ciphertext moved to another user's row, another
server or another kind fails to decrypt and is treated as absent. Plaintext leaves this module
only towards the gateway's credential source (:mod:`proxy.credentials.sources`), which registers
it with the log redactor; it is never logged, never put in an error and never returned by an API.
All functions take a SQLAlchemy session (run them through :func:`app.db.run_db`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from app.crypto import Envelope
from app.crypto.envelope import DecryptionError
from proxy.credentials.vault.store import (
    credentials_of,
    delete_credential,
    find_credential,
    put_credential,
)

log = logging.getLogger("portico.credentials")
USER_TOKEN: Final = "user_token"  # noqa: S105 - a credential kind, not a secret


def associated_data(*, subject: str, server: str, kind: str) -> str:
    """What a ciphertext is bound to (never stored: it is rebuilt from the row's own key)."""
    return f"user:{subject}|server:{server}|kind:{kind}"


def store_secret(
    db: Session,
    envelope: Envelope,
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
    ciphertext = envelope.encrypt(secret.encode(), associated_data=ad)
    put_credential(db, subject=subject, server=server, kind=kind, ciphertext=ciphertext, now=now, expires_at=expires_at)


def load_secret(db: Session, envelope: Envelope, *, subject: str, server: str, kind: str, now: datetime) -> str | None:
    """The user's decrypted credential for ``server``, or None when absent, expired, of another kind,
    or not decryptable for this owner (a copied or tampered row, which is logged without its value)."""
    row = find_credential(db, subject=subject, server=server)
    if row is None or row.kind != kind or (row.expires_at is not None and row.expires_at <= now):
        return None
    try:
        plaintext = envelope.decrypt(
            row.ciphertext, associated_data=associated_data(subject=subject, server=server, kind=kind)
        )
    except DecryptionError:
        log.warning("stored credential of user %s for server %s does not decrypt; treated as absent", subject, server)
        return None
    return plaintext.decode()


def connected_servers(db: Session, subject: str, *, now: datetime) -> set[str]:
    """Servers for which the user has an unexpired stored credential (nothing is decrypted)."""
    return {row.server for row in credentials_of(db, subject) if row.expires_at is None or row.expires_at > now}


def forget_secret(db: Session, *, subject: str, server: str) -> bool:
    """Delete the user's credential for ``server``; True when one existed."""
    return delete_credential(db, subject=subject, server=server)
