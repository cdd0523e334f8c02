"""JWT signing keys (ES256): generated on first start, stored encrypted, rotated with overlap.

Rotation retires the active key (it stops signing) but keeps publishing its public half in the
JWKS until every token it signed has expired (``publish_until`` = now + access-token lifetime).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, Key, KeySet
from sqlalchemy.orm import Session

from app.crypto import Sealer
from oauth.tokens.store.signing_keys import SigningKeyRow, active_key, published_keys

ALGORITHM = "ES256"


def _aad(kid: str) -> str:
    return f"signing-key:{kid}|kind:jwk"


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs now and every key whose signatures are still accepted (the JWKS)."""

    signing_key: ECKey
    verification_keys: KeySet

    def jwks(self) -> dict[str, object]:
        """The public JWK Set document (RFC 7517 §5)."""
        return {"keys": [key.as_dict(private=False, alg=ALGORITHM, use="sig") for key in self.verification_keys.keys]}


def ensure_signing_key(db: Session, sealer: Sealer, now: datetime) -> None:
    """Create the first signing key when none is active (idempotent)."""
    if active_key(db) is None:
        _create_key(db, sealer, now)


def rotate_signing_key(db: Session, sealer: Sealer, now: datetime, overlap: timedelta) -> str:
    """Retire the active key (published ``overlap`` longer) and create a new one; return its kid."""
    current = active_key(db)
    if current is not None:
        current.retired_at = now
        current.publish_until = now + overlap
    return _create_key(db, sealer, now).kid


def load_signing_keys(db: Session, sealer: Sealer, now: datetime) -> SigningKeys:
    """Decrypt the active key and collect every published public key.

    Raises:
        LookupError: no active signing key (call :func:`ensure_signing_key` first).
        app.crypto.DecryptionError: the stored key does not decrypt under the configured secret key.
    """
    active = active_key(db)
    if active is None:
        raise LookupError("no active signing key")
    private = json.loads(sealer.decrypt(active.private_jwk_encrypted, associated_data=_aad(active.kid)))
    public: list[Key] = [ECKey.import_key(json.loads(row.public_jwk)) for row in published_keys(db, now)]
    return SigningKeys(signing_key=ECKey.import_key(private), verification_keys=KeySet(public))


def _create_key(db: Session, sealer: Sealer, now: datetime) -> SigningKeyRow:
    key = ECKey.generate_key("P-256", auto_kid=True)
    kid = str(key.kid)
    private = json.dumps(key.as_dict(private=True)).encode()
    row = SigningKeyRow(
        kid=kid,
        algorithm=ALGORITHM,
        private_jwk_encrypted=sealer.encrypt(private, associated_data=_aad(kid)),
        public_jwk=json.dumps(key.as_dict(private=False)),
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row
