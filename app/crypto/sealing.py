"""Sealing secrets at rest: AES-256-GCM, each value bound to its owner through associated data.

Wire format (URL-safe base64 text): ``v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>``. The
associated data (e.g. ``user:42|server:github|kind:oauth``) is not stored: a ciphertext copied
to another owner or purpose fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.keyring import KeyRing

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value is malformed, was written under an unknown key, or its owner/purpose differs."""


class Sealer:
    """Encrypt with the current key; decrypt with whichever key id the value names."""

    def __init__(self, keyring: KeyRing) -> None:
        self._current = keyring.current_key_id
        self._ciphers = {kid: AESGCM(key) for kid, key in keyring.encryption_keys().items()}

    def encrypt(self, plaintext: bytes, *, associated_data: str) -> str:
        """Return the text form of ``plaintext`` sealed to ``associated_data``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, associated_data.encode())
        return f"{_VERSION}.{self._current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, associated_data: str) -> bytes:
        """Open a value produced by :meth:`encrypt`.

        Raises:
            DecryptionError: bad format, unknown key id, tampering, or a different ``associated_data``.
        """
        version, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        cipher = self._ciphers.get(kid)
        if version != _VERSION or cipher is None:
            raise DecryptionError("unknown sealed-value version or key id")
        try:
            raw = base64.urlsafe_b64decode(body)
            return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptionError("ciphertext does not verify for this owner and purpose") from None

    @property
    def current_key_id(self) -> str:
        """The key id new values are sealed under."""
        return self._current

    @property
    def key_ids(self) -> frozenset[str]:
        """Every key id this sealer decrypts (the current key and ``secrets.previous_keys``)."""
        return frozenset(self._ciphers)

    def needs_rewrap(self, token: str) -> bool:
        """True when the value was written under a previous key (re-encrypt it to finish rotation)."""
        return token.split(".", 2)[1:2] != [self._current]
