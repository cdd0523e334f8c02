"""The revocation list: access tokens (by ``jti``) revoked before their expiry, in process memory.

Fed by code and refresh-token replays, ``/revoke``, consent revocation and user disabling, and by
the housekeeping sync that reloads revocations other processes recorded (``issued_access_tokens``).
The resource server consults it on every request; an entry is dropped once its token would have
expired anyway (plus the verification leeway).
"""

from __future__ import annotations

import threading

# The clock-skew leeway of access-token verification (seconds); an entry outlives its token by it.
LEEWAY_SECONDS = 30


class RevokedTokens:
    """``jti`` values revoked before their expiry (e.g. after an authorization-code replay).

    In-process and bounded by expiry: entries are dropped once the token would have expired anyway.
    """

    def __init__(self) -> None:
        self._until: dict[str, int] = {}
        self._lock = threading.Lock()

    def revoke(self, jwt_id: str, expires_at: int) -> None:
        with self._lock:
            self._until[jwt_id] = expires_at

    def is_revoked(self, jwt_id: str, now: float) -> bool:
        expiry = self._until.get(jwt_id)
        if expiry is None:
            return False
        if expiry < now - LEEWAY_SECONDS:
            with self._lock:
                self._until.pop(jwt_id, None)
        return True
