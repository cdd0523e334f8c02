"""Sealing the sign-in cookies' values; built once per key ring, nothing derived per request.

- Login session cookie: JSON ``[login_session_id, user_id, issued_at, last_seen]`` encrypted
  with :class:`app.crypto.Sealer` (AES-256-GCM, associated data ``login-session``) and then
  signed (HMAC-SHA256 via itsdangerous, keys from ``Purpose.COOKIE_SIGNING``). About 170 bytes.
- Login nonce cookie: ``<random nonce>.<issued_at>``, signed; the CSRF binding of the sign-in
  form before anyone is signed in. Valid for :data:`LOGIN_NONCE_LIFETIME` seconds.

Every key of the ring verifies (rotation); the current key signs and encrypts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from itsdangerous import BadSignature, Signer

from app.crypto import DecryptionError, KeyRing, Purpose, Sealer
from oauth.login.session.login_session import LoginSession

LOGIN_SESSION_AAD = "login-session"
LOGIN_NONCE_LIFETIME = 600


class LoginSessionCodec:
    """Seal a :class:`LoginSession` into a cookie value and open it again."""

    def __init__(self, keyring: KeyRing) -> None:
        self._sealer = Sealer(keyring)
        self._signer = _signer(keyring, "login-session")

    def seal(self, login_session: LoginSession) -> str:
        """The cookie value for ``login_session`` (cookie-safe characters only)."""
        payload = [
            login_session.login_session_id,
            login_session.user_id,
            login_session.issued_at,
            login_session.last_seen,
        ]
        sealed = self._sealer.encrypt(
            json.dumps(payload, separators=(",", ":")).encode(), associated_data=LOGIN_SESSION_AAD
        )
        # Sealed text ends in base64 padding; '=' would make the cookie value quoted.
        return str(self._signer.sign(sealed.rstrip("=")).decode())

    def open(self, value: str) -> LoginSession | None:
        """The session in ``value``, or None when it is forged, tampered with or malformed."""
        try:
            sealed = self._signer.unsign(value).decode()
            plaintext = self._sealer.decrypt(_repad(sealed), associated_data=LOGIN_SESSION_AAD)
            fields = json.loads(plaintext)
        except (BadSignature, DecryptionError, UnicodeDecodeError, ValueError):
            return None
        return _login_session(fields)


class LoginNonceCodec:
    """Issue and check the pre-sign-in nonce (the CSRF binding of the sign-in form)."""

    def __init__(self, keyring: KeyRing) -> None:
        self._signer = _signer(keyring, "login-nonce")

    def issue(self, now: int) -> tuple[str, str]:
        """A new ``(nonce, cookie value)``."""
        nonce = secrets.token_urlsafe(16)
        return nonce, str(self._signer.sign(f"{nonce}.{now}").decode())

    def open(self, value: str | None, now: int) -> str | None:
        """The nonce in a cookie value issued less than :data:`LOGIN_NONCE_LIFETIME` s ago, else None."""
        if not value:
            return None
        try:
            nonce, _, issued = self._signer.unsign(value).decode().rpartition(".")
        except (BadSignature, UnicodeDecodeError):
            return None
        if not nonce or not issued.isdigit() or not 0 <= now - int(issued) <= LOGIN_NONCE_LIFETIME:
            return None
        return nonce


@dataclass(frozen=True)
class LoginCodecs:
    login_session: LoginSessionCodec
    login_nonce: LoginNonceCodec


# One entry per key ring (so per runtime); the values hold no reference to their key.
_codecs: WeakKeyDictionary[KeyRing, LoginCodecs] = WeakKeyDictionary()


def login_codecs(keyring: KeyRing) -> LoginCodecs:
    """The codecs for ``keyring``, built on first use and then reused."""
    codecs = _codecs.get(keyring)
    if codecs is None:
        codecs = LoginCodecs(LoginSessionCodec(keyring), LoginNonceCodec(keyring))
        _codecs[keyring] = codecs
    return codecs


def _signer(keyring: KeyRing, label: str) -> Signer:
    # itsdangerous verifies with every key and signs with the last: oldest first.
    keys = [
        hmac.new(key, label.encode(), hashlib.sha256).digest() for key in reversed(keyring.all(Purpose.COOKIE_SIGNING))
    ]
    return Signer(keys, key_derivation="none", digest_method=hashlib.sha256)


def _repad(sealed: str) -> str:
    return sealed + "=" * (-len(sealed.rpartition(".")[2]) % 4)


def _login_session(fields: object) -> LoginSession | None:
    if not isinstance(fields, list) or len(fields) != 4:
        return None
    login_session_id, user_id, issued_at, last_seen = fields
    if not isinstance(login_session_id, str) or not login_session_id:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (user_id, issued_at, last_seen)):
        return None
    return LoginSession(login_session_id, user_id, issued_at, last_seen)
