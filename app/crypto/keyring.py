"""Per-purpose keys derived from the root key with HKDF-SHA256 (RFC 5869).

Derivation happens once at startup; nothing on a request path stretches or derives keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"portico/v1"


class Purpose(StrEnum):
    """What a derived key is used for; the value is the HKDF ``info``."""

    COOKIE_SIGNING = "cookie-signing"
    STATE_SIGNING = "state-signing"
    DATA_ENCRYPTION = "data-encryption"
    TOKEN_HASHING = "token-hashing"  # noqa: S105 - a purpose label, not a secret


def derive(root: bytes, purpose: Purpose, length: int = 32) -> bytes:
    """HKDF-SHA256(root, salt="portico/v1", info=purpose) → ``length`` bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.value.encode()).derive(root)


def key_id(root: bytes) -> str:
    """A short, non-secret identifier of a root key (first 8 hex chars of a derived fingerprint)."""
    return hashlib.sha256(derive(root, Purpose.DATA_ENCRYPTION) + b"kid").hexdigest()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The current root key and its predecessors, with every purpose key derived up front."""

    roots: tuple[bytes, ...]
    _derived: dict[tuple[int, Purpose], bytes] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise ValueError("a key ring needs at least one root key")
        for index, root in enumerate(self.roots):
            for purpose in Purpose:
                self._derived[(index, purpose)] = derive(root, purpose)

    def current(self, purpose: Purpose) -> bytes:
        """The current key for ``purpose`` (32 bytes)."""
        return self._derived[(0, purpose)]

    def all(self, purpose: Purpose) -> list[bytes]:
        """Current then previous keys for ``purpose``: verify or decrypt with each in turn."""
        return [self._derived[(i, purpose)] for i in range(len(self.roots))]

    def encryption_keys(self) -> dict[str, bytes]:
        """``{key id: data-encryption key}`` for every root key, current first."""
        return {key_id(root): self._derived[(i, Purpose.DATA_ENCRYPTION)] for i, root in enumerate(self.roots)}

    @property
    def current_key_id(self) -> str:
        return key_id(self.roots[0])
