"""Google ID tokens verified with google-auth (``google.oauth2.id_token.verify_token``), then as any ID token.

google-auth checks the signature against Google's X.509 certificates (fetched through
:class:`~oauth.login.upstream_idp.google_transport.CachingRequest`, cached for their max-age;
RS256/ES256 only, so never ``none`` or HMAC), ``exp``/``iat`` against the system clock and ``aud``.
:func:`~oauth.login.upstream_idp.id_token.check_id_token_claims` then checks ``iss`` (Google's two
spellings), ``azp``, the times on Portico's clock, ``nonce`` and ``sub`` (OpenID Connect Core
§3.1.3.7). ``hd`` and ``email_verified`` are judged by :class:`~oauth.login.upstream_idp.google.GoogleProvider`
and the access rules. A token naming a key id the cached certificates lack refetches them once.
"""

from __future__ import annotations

from typing import Any

from google.auth import exceptions
from google.oauth2 import id_token as google_id_token

from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.login.upstream_idp.errors import InvalidIdTokenError
from oauth.login.upstream_idp.google_transport import CachingRequest
from oauth.login.upstream_idp.id_token import (
    LEEWAY_SECONDS,
    MAX_ID_TOKEN_LENGTH,
    IdTokenExpectations,
    UnknownSigningKeyError,
    check_id_token_claims,
)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"

# google-auth's refusals (ValueError subclasses), by the start of their message → our reason.
_REASONS = (
    ("Certificate for key id", "the ID token is signed with a key the identity provider does not publish"),
    ("Could not verify token signature", "the ID token's signature does not verify"),
    ("Token expired", "the ID token has expired"),
    ("Token used too early", "the ID token is issued in the future"),
    ("Token has wrong audience", "the ID token is not for this client (aud)"),
    ("Unsupported signature algorithm", "the ID token's algorithm is not an accepted asymmetric one"),
)


def verify_google_id_token(
    id_token: str, request: CachingRequest, expect: IdTokenExpectations, *, certs_url: str = GOOGLE_CERTS_URL
) -> dict[str, Any]:
    """The verified claims of a Google ID token (blocking: run it in a worker thread).

    Raises:
        InvalidIdTokenError: a failed check, by name (never the token); ``UnknownSigningKeyError``
            even after refetching the certificates once.
        AuthorizationServerUnavailableError: the certificates could not be fetched.
    """
    if len(id_token) > MAX_ID_TOKEN_LENGTH:
        raise InvalidIdTokenError("the ID token is too large")
    try:
        claims = _google_auth(id_token, request, expect, certs_url)
    except UnknownSigningKeyError:
        request.forget(certs_url)  # Google rotated its keys since the certificates were cached
        claims = _google_auth(id_token, request, expect, certs_url)
    check_id_token_claims(claims, expect)
    return claims


def _google_auth(id_token: str, request: CachingRequest, expect: IdTokenExpectations, certs_url: str) -> dict[str, Any]:
    try:
        verified = google_id_token.verify_token(
            id_token, request, audience=expect.client_id, certs_url=certs_url, clock_skew_in_seconds=LEEWAY_SECONDS
        )
    except exceptions.TransportError:
        raise AuthorizationServerUnavailableError("could not fetch Google's signing certificates") from None
    except (ValueError, exceptions.GoogleAuthError) as error:
        raise _refusal(str(error)) from None  # the message may quote claims: only our reason goes on
    return dict(verified)


def _refusal(message: str) -> InvalidIdTokenError:
    for start, reason in _REASONS:
        if message.startswith(start):
            error_class = UnknownSigningKeyError if start.startswith("Certificate") else InvalidIdTokenError
            return error_class(reason)
    return InvalidIdTokenError("the ID token is malformed")
