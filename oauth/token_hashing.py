"""Hashes of bearer secrets: authorization codes, refresh tokens and client secrets.

Only ``HMAC-SHA256(token-hashing key, value)`` is stored, never the value. New hashes use the
current key; lookups and comparisons try every key of the ring, so rotating the root secret does
not invalidate outstanding codes, refresh tokens or client secrets.
"""

from __future__ import annotations

import hashlib
import hmac

from app.crypto import KeyRing, Purpose


def token_hash(keyring: KeyRing, value: str) -> str:
    """The stored form of ``value`` under the current key (64 hex characters)."""
    return _mac(keyring.current(Purpose.TOKEN_HASHING), value)


def token_hashes(keyring: KeyRing, value: str) -> list[str]:
    """The stored form of ``value`` under every key, current first (for lookups by hash)."""
    return [_mac(key, value) for key in keyring.all(Purpose.TOKEN_HASHING)]


def hash_matches(keyring: KeyRing, value: str, stored: str) -> bool:
    """True when ``value`` hashes to ``stored`` under some key; compared in constant time."""
    return any(hmac.compare_digest(candidate, stored) for candidate in token_hashes(keyring, value))


def _mac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
