"""CSRF tokens for Portico's forms: HMAC-signed, bound to the login session and the form's purpose.

A token is ``<issued-at>.<hmac>`` with HMAC-SHA256 over ``purpose|binding|issued-at`` under the
state-signing key; it is valid for ``max_age`` seconds and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from app.crypto import KeyRing, Purpose

DEFAULT_MAX_AGE = 600


class CsrfTokens:
    def __init__(self, keyring: KeyRing) -> None:
        self._keys = keyring.all(Purpose.STATE_SIGNING)

    def issue(self, *, binding: str, purpose: str, now: float | None = None) -> str:
        """A token for a form shown to the holder of ``binding`` (e.g. the login session id)."""
        issued = str(int(time.time() if now is None else now))
        return f"{issued}.{self._mac(self._keys[0], binding, purpose, issued)}"

    def verify(
        self, token: str, *, binding: str, purpose: str, max_age: int = DEFAULT_MAX_AGE, now: float | None = None
    ) -> bool:
        """True when ``token`` was issued for this binding and purpose less than ``max_age`` s ago."""
        issued, _, mac = token.partition(".")
        if not issued.isdigit() or not mac:
            return False
        age = (time.time() if now is None else now) - int(issued)
        if age < 0 or age > max_age:
            return False
        return any(hmac.compare_digest(mac, self._mac(key, binding, purpose, issued)) for key in self._keys)

    @staticmethod
    def _mac(key: bytes, binding: str, purpose: str, issued: str) -> str:
        return hmac.new(key, f"{purpose}|{binding}|{issued}".encode(), hashlib.sha256).hexdigest()
