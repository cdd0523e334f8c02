"""ID token validation: OpenID Connect Core 1.0 §3.1.3.7 (authorization code flow), with joserfc.

:func:`verify_id_token` checks, in order:

1. The JWS compact form and its header; ``alg`` is asymmetric (RS/PS/ES 256-512, Ed25519/Ed448
   or their older name EdDSA, RFC 9864):
   never ``none`` and never HMAC, so a public key cannot be replayed as a shared secret (§3.1.3.7
   steps 6-8; a JWE-encrypted ID token is not supported and is refused).
2. The signature, with the key named by ``kid`` (or, without ``kid``, any key of the right type).
   A ``kid`` the key set lacks raises :class:`UnknownSigningKeyError` so that the caller refetches
   the JWKS once (key rotation).
3. ``iss`` is one of the expected issuers, exactly (step 2).
4. ``aud`` contains our ``client_id``; with several audiences, ``azp`` must be present; ``azp``,
   when present, must be our ``client_id`` (steps 3-5).
5. ``exp`` is in the future and ``iat`` is not in the future, nor more than
   :data:`MAX_AGE_SECONDS` in the past; ``nbf``, when present, has passed (steps 9-10), each with
   :data:`LEEWAY_SECONDS` of clock skew.
6. ``nonce`` equals the one sent in the authorization request, in constant time (step 11).
7. ``sub`` is a non-empty string of at most 255 characters (§2).
"""

from __future__ import annotations

import hmac
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError, SecurityWarning
from joserfc.jws import extract_compact

from oauth.login.upstream_idp.errors import InvalidIdTokenError
from oauth.login.upstream_idp.jwks import PublicKey

ALGORITHM_KEY_TYPES = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("ES256", "ES384", "ES512"), "EC"),
    **dict.fromkeys(("Ed25519", "Ed448", "EdDSA"), "OKP"),
}
LEEWAY_SECONDS = 60
MAX_AGE_SECONDS = 600
MAX_ID_TOKEN_LENGTH = 16 * 1024
_TIMES = ("exp", "iat", "nbf")


class UnknownSigningKeyError(InvalidIdTokenError):
    """The header's ``kid`` is not in the key set (refetch the JWKS and try once more)."""


@dataclass(frozen=True)
class IdTokenExpectations:
    """What the token must say: one of ``issuers``, for ``client_id``, with ``nonce``, at ``now`` (epoch s)."""

    issuers: frozenset[str]
    client_id: str
    nonce: str
    now: int


def verify_id_token(id_token: str, keys: Sequence[PublicKey], expect: IdTokenExpectations) -> dict[str, Any]:
    """The verified claims of ``id_token``.

    Raises:
        UnknownSigningKeyError: the header names a ``kid`` that ``keys`` lacks.
        InvalidIdTokenError: any other failed check; ``reason`` names it (never the token).
    """
    claims = _verified_claims(id_token, keys)
    check_id_token_claims(claims, expect)
    return claims


def check_id_token_claims(claims: dict[str, Any], expect: IdTokenExpectations) -> None:
    """Steps 3-7 above on claims whose signature is already verified (e.g. by google-auth).

    Raises:
        InvalidIdTokenError: the failed check, by name.
    """
    _check_issuer(claims, expect)
    _check_audience(claims, expect)
    _check_times(claims, expect)
    _check_nonce(claims, expect)
    _check_subject(claims)


def _verified_claims(id_token: str, keys: Sequence[PublicKey]) -> dict[str, Any]:
    if len(id_token) > MAX_ID_TOKEN_LENGTH:
        raise InvalidIdTokenError("the ID token is too large")
    try:
        header = extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        raise InvalidIdTokenError("the ID token is not a signed JWT") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHM_KEY_TYPES:
        raise InvalidIdTokenError("the ID token's algorithm is not an accepted asymmetric one")
    for key in _candidate_keys(keys, header, algorithm):
        try:
            with warnings.catch_warnings():
                # joserfc flags the name EdDSA as deprecated (RFC 9864); IdPs still use it.
                warnings.simplefilter("ignore", SecurityWarning)
                token = jwt.decode(id_token, key, algorithms=[algorithm])
        except BadSignatureError:
            continue
        except (JoseError, ValueError, TypeError):
            raise InvalidIdTokenError("the ID token is malformed") from None
        return dict(token.claims)
    raise InvalidIdTokenError("the ID token's signature does not verify")


def _candidate_keys(keys: Sequence[PublicKey], header: dict[str, Any], algorithm: str) -> list[PublicKey]:
    key_type = ALGORITHM_KEY_TYPES[algorithm]
    kid = header.get("kid")
    candidates = [
        key
        for key in keys
        if key.key_type == key_type and (kid is None or key.kid == kid) and key.get("alg", algorithm) == algorithm
    ]
    if kid is not None and not candidates:
        raise UnknownSigningKeyError("the ID token is signed with a key the identity provider does not publish")
    return candidates


def _check_issuer(claims: dict[str, Any], expect: IdTokenExpectations) -> None:
    if claims.get("iss") not in expect.issuers:
        raise InvalidIdTokenError("the ID token was issued by another issuer")


def _check_audience(claims: dict[str, Any], expect: IdTokenExpectations) -> None:
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or expect.client_id not in audiences:
        raise InvalidIdTokenError("the ID token is not for this client (aud)")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise InvalidIdTokenError("the ID token has several audiences and no azp")
    if azp is not None and azp != expect.client_id:
        raise InvalidIdTokenError("the ID token was issued to another party (azp)")


def _check_times(claims: dict[str, Any], expect: IdTokenExpectations) -> None:
    now = expect.now
    expires, issued, not_before = (_number(claims.get(name, now if name == "nbf" else None)) for name in _TIMES)
    if expires is None or issued is None or not_before is None:
        raise InvalidIdTokenError("the ID token lacks a numeric exp or iat")
    if expires <= now - LEEWAY_SECONDS:
        raise InvalidIdTokenError("the ID token has expired")
    if issued > now + LEEWAY_SECONDS or not_before > now + LEEWAY_SECONDS:
        raise InvalidIdTokenError("the ID token is issued in the future")
    if issued < now - MAX_AGE_SECONDS - LEEWAY_SECONDS:
        raise InvalidIdTokenError("the ID token was issued too long ago")


def _check_nonce(claims: dict[str, Any], expect: IdTokenExpectations) -> None:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expect.nonce.encode()):
        raise InvalidIdTokenError("the ID token's nonce does not match this sign-in")


def _check_subject(claims: dict[str, Any]) -> None:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise InvalidIdTokenError("the ID token has no usable subject (sub)")


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
