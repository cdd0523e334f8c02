"""The ``requestState`` of a bridged ``input_required`` result: opaque to the client, unforgeable.

2026-07-28 (SEP-2322) lets a server answer an interactive request with ``input_required`` and a
``requestState`` the client echoes, byte for byte, when it retries with ``inputResponses``. When
Portico bridges a handshake-era upstream the state names a request Portico has **parked** (the
upstream is still waiting for its elicitation/sampling answer), so it must be bound to who may
resume it:

``requestState = b64url(payload) "." b64url(HMAC-SHA256(key, payload ‖ 0x00 ‖ subject ‖ 0x00 ‖ server))``

with ``payload = {"v": 1, "p": <parked id>, "e": <expiry, Unix seconds>}``. Subject and server are
authenticated, not carried, so the state reveals nothing about the user. The key is derived once
at startup with HKDF-SHA256 from the key ring's state-signing key (info ``mcp-request-state``);
the MAC is compared in constant time (``hmac.compare_digest``). Tampered, expired, another user's
or another server's state → :class:`InvalidRequestStateError` (-32602, HTTP 400) whose message never
contains the state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto.keyring import KeyRing, Purpose
from proxy.wire.errors import GatewayError
from proxy.wire.jsonrpc import INVALID_PARAMS

_INFO: Final = b"mcp-request-state"
DEFAULT_LIFETIME: Final = 300.0


class InvalidRequestStateError(GatewayError):
    """A retry's ``requestState`` Portico cannot honour (2026-07-28: invalid params, 400)."""

    code = INVALID_PARAMS
    http_status = 400


def request_state_key(keyring: KeyRing) -> bytes:
    """HKDF-SHA256(state-signing key, info="mcp-request-state") → 32 bytes; called once at startup."""
    root = keyring.current(Purpose.STATE_SIGNING)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(root)


class RequestStateCodec:
    """Issues and verifies bridged ``requestState`` values (see module docstring).

    ``lifetime`` is in seconds; ``clock`` returns Unix seconds (replaceable in tests).
    """

    def __init__(self, key: bytes, *, lifetime: float = DEFAULT_LIFETIME, clock: Callable[[], float] = time.time):
        self._key = key
        self.lifetime = lifetime
        self.clock = clock

    def issue(self, parked_id: str, *, subject: str, server: str) -> str:
        payload = json.dumps({"v": 1, "p": parked_id, "e": int(self.clock() + self.lifetime)}, separators=(",", ":"))
        encoded = _b64(payload.encode())
        return f"{encoded}.{_b64(self._mac(encoded, subject, server))}"

    def verify(self, state: object, *, subject: str, server: str) -> str:
        """The parked id named by ``state``, if it is authentic for this user and server and unexpired.

        Raises:
            InvalidRequestStateError: malformed, tampered, bound to someone else, or expired.
        """
        if not isinstance(state, str) or state.count(".") != 1:
            raise InvalidRequestStateError("Invalid params: requestState is malformed")
        encoded, mac = state.split(".")
        try:
            given = _unb64(mac)
            payload = json.loads(_unb64(encoded))
        except ValueError as error:
            raise InvalidRequestStateError("Invalid params: requestState is malformed") from error
        if not hmac.compare_digest(given, self._mac(encoded, subject, server)):
            raise InvalidRequestStateError("Invalid params: requestState was not issued for this user and server")
        well_formed = isinstance(payload, dict) and isinstance(payload.get("p"), str)
        if not well_formed or not isinstance(payload.get("e"), int):
            raise InvalidRequestStateError("Invalid params: requestState is malformed")
        if payload["e"] <= self.clock():
            raise InvalidRequestStateError("Invalid params: requestState has expired; call the tool again")
        parked_id: str = payload["p"]
        return parked_id

    def _mac(self, encoded: str, subject: str, server: str) -> bytes:
        message = b"\x00".join((encoded.encode(), subject.encode(), server.encode()))
        return hmac.new(self._key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error
