"""What can go wrong only when signing in through an upstream IdP, as exceptions with page-safe messages.

The OAuth client's own failures (unreachable authorization server, refused token request, error
in the authorization response, unknown ``state``) are :mod:`oauth.client.errors`; the ones here
come after a well-formed OAuth exchange: the ID token fails validation, the IdP vouches for no
usable identity, or a provider rule refuses the account. A sign-in ends on an error page for
either family (:data:`SIGN_IN_ERRORS`, :mod:`.pages`); none reaches the generic 500 handler.

Messages never contain a code, token, ID token, client secret or verifier. ``status_code`` has
the meaning of :class:`oauth.client.errors.OAuthClientError`'s (RFC 9110 §15).
"""

from __future__ import annotations

from typing import Final

from oauth.client.errors import OAuthClientError


class UpstreamIdpError(Exception):
    """Base class of the sign-in-only failures."""

    status_code = 502


class InvalidIdTokenError(UpstreamIdpError):
    """The ID token failed a check of OpenID Connect Core §3.1.3.7; ``reason`` names which."""

    status_code = 400

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnusableIdentityError(UpstreamIdpError):
    """The IdP vouched for no usable identity (no subject, no email)."""

    status_code = 400


class AccountRefusedError(UpstreamIdpError):
    """A provider-level rule refused the account (Google's ``hosted_domain``)."""

    status_code = 403


# Everything a sign-in at an upstream IdP may fail with: the client's errors and the ones above.
SignInError = OAuthClientError | UpstreamIdpError
SIGN_IN_ERRORS: Final = (OAuthClientError, UpstreamIdpError)
