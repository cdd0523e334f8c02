"""Verify Portico's signed identity in an upstream server (``servers.<name>.identity``): copy this file.

Portico sends each request a JWT (header ``X-Portico-Identity`` by default, or ``Authorization:
Bearer …``) signed ES256 with the keys it publishes at ``<public_url>/jwks``. Accept it only when
the signature verifies against those keys, ``typ`` is ``portico-identity+jwt`` (not an access
token), ``iss`` is Portico's public URL, ``aud`` is *your own* URL (``servers.<name>.url``) and it
has not expired. Needs ``joserfc`` only::

    keys = fetch_jwks("https://portico.example.com/jwks")  # cache it; fetch again on an unknown key
    who = verify_identity(
        request.headers["x-portico-identity"],
        keys,
        issuer="https://portico.example.com",
        audience="https://tools.internal.example.com/mcp",
    )
    who.subject, who.email, who.groups, who.client_id

See docs/credentials.md §identity.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

IDENTITY_TYPE = "portico-identity+jwt"
LEEWAY_SECONDS = 30  # clock skew tolerated on exp and iat


@dataclass(frozen=True)
class Identity:
    """Who is calling: Portico's user (``subject``, ``email``, IdP ``groups``) and the OAuth ``client_id``.

    ``actor``: ``act.sub`` when a service acts for the user (RFC 8693 §4.1); None otherwise.
    """

    subject: str
    email: str | None
    groups: tuple[str, ...]
    client_id: str
    expires_at: int
    actor: str | None = None


class IdentityError(Exception):
    """The assertion is not acceptable; the message says why and never contains the token."""


def fetch_jwks(url: str, timeout: float = 5.0) -> KeySet:
    """Portico's public keys from its ``/jwks`` URL (https in production)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the JWKS URL must be http(s)")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        return KeySet.import_key_set(json.load(response))


def verify_identity(token: str, keys: KeySet, *, issuer: str, audience: str, now: float | None = None) -> Identity:
    """The identity in ``token`` after checking signature (ES256), ``typ``, ``iss``, ``aud``, ``exp`` and ``iat``.

    Raises:
        IdentityError: any check failed.
    """
    current = time.time() if now is None else now
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
    except (JoseError, ValueError) as error:
        raise IdentityError("signature or format is invalid (or signed by a key not in the JWKS)") from error
    claims = decoded.claims
    if decoded.header.get("typ") != IDENTITY_TYPE:
        raise IdentityError(f"typ is not {IDENTITY_TYPE}")
    if claims.get("iss") != issuer:
        raise IdentityError("issued by another issuer")
    if claims.get("aud") != audience:
        raise IdentityError("meant for another audience")
    expires_at, issued_at = claims.get("exp"), claims.get("iat")
    if not isinstance(expires_at, int) or not isinstance(issued_at, int):
        raise IdentityError("exp or iat is missing")
    if expires_at <= current - LEEWAY_SECONDS:
        raise IdentityError("expired")
    if issued_at > current + LEEWAY_SECONDS:
        raise IdentityError("issued in the future")
    return _identity(claims, expires_at)


def _identity(claims: dict[str, object], expires_at: int) -> Identity:
    subject, client_id, email = claims.get("sub"), claims.get("client_id"), claims.get("email")
    groups, act = claims.get("groups", []), claims.get("act")
    if not isinstance(subject, str) or not isinstance(client_id, str):
        raise IdentityError("sub or client_id is missing")
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise IdentityError("groups is not a list of strings")
    actor = act.get("sub") if isinstance(act, dict) else None
    return Identity(
        subject=subject,
        email=email if isinstance(email, str) else None,
        groups=tuple(groups),
        client_id=client_id,
        expires_at=expires_at,
        actor=actor if isinstance(actor, str) else None,
    )
