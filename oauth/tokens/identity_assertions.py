"""Identity assertions: the signed statement of who is calling that Portico sends to an upstream server.

A JWT signed ES256 with the key that signs access tokens (so the upstream verifies it with the
keys published at ``/jwks``), with its own header ``typ`` — ``portico-identity+jwt`` — so neither
kind of token can be passed off as the other (RFC 8725 §3.11, explicit typing; access tokens are
``at+jwt``, RFC 9068). Claims: ``iss`` (Portico's public URL), ``aud`` (the upstream server's URL),
``sub``, ``email`` (when known), ``groups`` (the IdP groups stored at the user's last sign-in),
``client_id`` (the OAuth client acting for the user), ``iat``, ``exp``, ``jti``; and ``act``
(RFC 8693 §4.1, ``{"sub": …}``) when a service acts — no caller sets it yet.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from joserfc import jwt
from joserfc.jwk import ECKey

from oauth.tokens.signing_keys import ALGORITHM

IDENTITY_TYPE: Final = "portico-identity+jwt"


@dataclass(frozen=True)
class IdentityStatement:
    """Who the assertion names: the user (``subject``, ``email``, ``groups``) and the acting ``client_id``.

    ``actor``: the ``act.sub`` of a service acting for the user (RFC 8693 §4.1); None today.
    """

    subject: str
    email: str | None
    groups: tuple[str, ...]
    client_id: str
    actor: str | None = None


def issue_identity_assertion(
    key: ECKey, statement: IdentityStatement, *, issuer: str, audience: str, now: int, lifetime: int
) -> str:
    """Sign ``statement`` for ``audience`` with ``key``, valid ``lifetime`` seconds from ``now`` (epoch seconds)."""
    payload: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": statement.subject,
        "groups": list(statement.groups),
        "client_id": statement.client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    if statement.email is not None:
        payload["email"] = statement.email
    if statement.actor is not None:
        payload["act"] = {"sub": statement.actor}
    header = {"typ": IDENTITY_TYPE, "alg": ALGORITHM, "kid": key.kid}
    return jwt.encode(header, payload, key, algorithms=[ALGORITHM])
