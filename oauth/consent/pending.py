"""The pending authorization request carried by the consent form: signed, single-use, 10 minutes.

The consent page holds the original /authorize parameters in a hidden ``state`` field signed
with the state-signing key (itsdangerous). It is bound to the signed-in user (``subject``) and to
the browser (a signed cookie holding its ``state_id``), expires after :data:`STATE_LIFETIME`
seconds, and is spent on first use (table ``used_states``), so a replayed form is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from app.crypto import KeyRing, Purpose

STATE_LIFETIME = 600


@dataclass(frozen=True)
class PendingConsent:
    state_id: str
    subject: str
    client_id: str
    redirect_uri: str
    state: str | None
    resource: str
    params: tuple[tuple[str, str], ...]
    expires_at: datetime


def new_pending_consent(
    *,
    subject: str,
    client_id: str,
    redirect_uri: str,
    state: str | None,
    resource: str,
    params: tuple[tuple[str, str], ...],
    now: datetime,
) -> PendingConsent:
    return PendingConsent(
        state_id=secrets.token_urlsafe(16),
        subject=subject,
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=state,
        resource=resource,
        params=params,
        expires_at=now + timedelta(seconds=STATE_LIFETIME),
    )


def seal(keyring: KeyRing, pending: PendingConsent) -> str:
    payload = {
        "i": pending.state_id,
        "s": pending.subject,
        "c": pending.client_id,
        "r": pending.redirect_uri,
        "t": pending.state,
        "a": pending.resource,
        "p": [list(pair) for pair in pending.params],
        "e": int(pending.expires_at.timestamp()),
    }
    return _serializer(keyring).dumps(payload)


def unseal(keyring: KeyRing, value: str, now: datetime) -> PendingConsent | None:
    """The pending request, or None when the value is forged, malformed or expired."""
    try:
        payload = _serializer(keyring).loads(value)
        pending = PendingConsent(
            state_id=str(payload["i"]),
            subject=str(payload["s"]),
            client_id=str(payload["c"]),
            redirect_uri=str(payload["r"]),
            state=payload["t"],
            resource=str(payload["a"]),
            params=tuple((str(name), str(val)) for name, val in payload["p"]),
            expires_at=datetime.fromtimestamp(int(payload["e"]), tz=now.tzinfo),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    return pending if pending.expires_at > now else None


def _serializer(keyring: KeyRing) -> URLSafeSerializer:
    keys = list(reversed(keyring.all(Purpose.STATE_SIGNING)))  # itsdangerous signs with the last
    return URLSafeSerializer(keys, salt="portico.consent-state")
