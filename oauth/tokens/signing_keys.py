"""JWT signing keys (ES256): generated on first start, stored encrypted, rotated with overlap.

Rotation (``portico keys rotate-signing``, docs/key-rotation.md) publishes the new key in the
JWKS at once and lets it sign only from ``activates_at``, so every verifier (other instances, and
resource servers caching the JWKS) knows it before it sees a token signed with it. The old key
signs until then and stays published until every token it signed has expired (``publish_until`` =
``activates_at`` + access-token lifetime).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, Key, KeySet
from sqlalchemy.orm import Session

from app.crypto import Sealer
from oauth.tokens.store.signing_keys import SigningKeyRow, active_key, published_keys, scheduled_key

ALGORITHM = "ES256"


class RotationPendingError(Exception):
    """A rotation is already scheduled; the message names its key id and activation time."""


def signing_key_aad(kid: str) -> str:
    """The associated data a signing key's private JWK is sealed to."""
    return f"signing-key:{kid}|kind:jwk"


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs now, the one scheduled to sign next, and every published key (the JWKS).

    ``next_activates_at`` is in epoch seconds; from then on :meth:`key_at` answers ``next_key``, so a
    loaded key set switches at the scheduled moment without reading the database.
    """

    signing_key: ECKey
    verification_keys: KeySet
    next_key: ECKey | None = None
    next_activates_at: float | None = None

    def key_at(self, now: float) -> ECKey:
        """The key that signs at ``now`` (epoch seconds)."""
        if self.next_key is not None and self.next_activates_at is not None and now >= self.next_activates_at:
            return self.next_key
        return self.signing_key

    def jwks(self) -> dict[str, object]:
        """The public JWK Set document (RFC 7517 §5)."""
        return {"keys": [key.as_dict(private=False, alg=ALGORITHM, use="sig") for key in self.verification_keys.keys]}


@dataclass(frozen=True)
class ScheduledRotation:
    """What :func:`rotate_signing_key` did: the new key, when it signs, until when the old one is published."""

    kid: str
    activates_at: datetime
    retired_kid: str | None
    old_published_until: datetime | None


def ensure_signing_key(db: Session, sealer: Sealer, now: datetime) -> None:
    """Create the first signing key when none signs now (idempotent)."""
    if active_key(db, now) is None:
        _create_key(db, sealer, now, activates_at=None)


def rotate_signing_key(
    db: Session, sealer: Sealer, now: datetime, overlap: timedelta, *, activate_after: timedelta = timedelta(0)
) -> str:
    """Create a key that signs from ``now + activate_after``; return its kid (see :func:`schedule_rotation`)."""
    return schedule_rotation(db, sealer, now, overlap=overlap, activate_after=activate_after).kid


def schedule_rotation(
    db: Session, sealer: Sealer, now: datetime, *, overlap: timedelta, activate_after: timedelta
) -> ScheduledRotation:
    """Publish a new key now; it signs from ``now + activate_after``, when the current key retires.

    The current key stays published ``overlap`` (the access-token lifetime) after that.

    Raises:
        RotationPendingError: a key is already scheduled and has not started signing yet.
    """
    pending = scheduled_key(db, now)
    if pending is not None:
        raise RotationPendingError(
            f"key {pending.kid} is already scheduled to sign from {pending.signs_from():%Y-%m-%d %H:%M:%SZ}"
        )
    activates_at = now + activate_after
    current = active_key(db, now)
    if current is not None:
        current.retired_at = activates_at
        current.publish_until = activates_at + overlap
    row = _create_key(db, sealer, now, activates_at=activates_at if activate_after > timedelta(0) else None)
    return ScheduledRotation(
        kid=row.kid,
        activates_at=activates_at,
        retired_kid=current.kid if current is not None else None,
        old_published_until=current.publish_until if current is not None else None,
    )


def load_signing_keys(db: Session, sealer: Sealer, now: datetime) -> SigningKeys:
    """Decrypt the active (and any scheduled) key and collect every published public key.

    Raises:
        LookupError: no active signing key (call :func:`ensure_signing_key` first).
        app.crypto.DecryptionError: the stored key does not decrypt under the configured secret key.
    """
    active = active_key(db, now)
    if active is None:
        raise LookupError("no active signing key")
    scheduled = scheduled_key(db, now)
    public: list[Key] = [ECKey.import_key(json.loads(row.public_jwk)) for row in published_keys(db, now)]
    return SigningKeys(
        signing_key=_private(sealer, active),
        verification_keys=KeySet(public),
        next_key=_private(sealer, scheduled) if scheduled is not None else None,
        next_activates_at=scheduled.signs_from().timestamp() if scheduled is not None else None,
    )


def _private(sealer: Sealer, row: SigningKeyRow) -> ECKey:
    return ECKey.import_key(
        json.loads(sealer.decrypt(row.private_jwk_encrypted, associated_data=signing_key_aad(row.kid)))
    )


def _create_key(db: Session, sealer: Sealer, now: datetime, *, activates_at: datetime | None) -> SigningKeyRow:
    key = ECKey.generate_key("P-256", auto_kid=True)
    kid = str(key.kid)
    private = json.dumps(key.as_dict(private=True)).encode()
    row = SigningKeyRow(
        kid=kid,
        algorithm=ALGORITHM,
        private_jwk_encrypted=sealer.encrypt(private, associated_data=signing_key_aad(kid)),
        public_jwk=json.dumps(key.as_dict(private=False)),
        created_at=now,
        activates_at=activates_at,
    )
    db.add(row)
    db.flush()
    return row
