"""What can go wrong while signing in through an upstream IdP, as exceptions with page-safe messages.

Every message is fixed text or built from values Portico checked (a provider's display name, an
OAuth error code restricted to RFC 6749's characters); none ever contains a code, token, ID token,
client secret or verifier. The routes turn each into an error page (:mod:`.pages`); none reaches
the generic 500 handler.
"""

from __future__ import annotations

import re

# RFC 6749 §4.1.2.1 / §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
_NOT_OAUTH_TEXT = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
MAX_ERROR_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 300


class UpstreamIdpError(Exception):
    """Base class. ``status_code`` is the HTTP status of the error page; ``title`` its heading."""

    status_code = 502
    title = "Sign-in failed"


class IdpUnavailableError(UpstreamIdpError):
    """The IdP could not be reached or answered with something unusable (network, 5xx, bad JSON,
    a discovery document for another issuer, an endpoint that is not https)."""


class AuthorizationResponseError(UpstreamIdpError):
    """The IdP sent the browser back with an error (RFC 6749 §4.1.2.1), e.g. ``access_denied``.

    ``error`` and ``description`` are reduced to RFC 6749's characters and truncated.
    """

    status_code = 400

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = oauth_text(error, MAX_ERROR_LENGTH) or "unknown_error"
        self.description = oauth_text(description or "", MAX_DESCRIPTION_LENGTH) or None
        super().__init__(self.error)


class TokenRequestError(UpstreamIdpError):
    """The IdP's token endpoint refused the code (RFC 6749 §5.2), e.g. ``invalid_grant``."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = oauth_text(error, MAX_ERROR_LENGTH) or "unknown_error"
        self.description = oauth_text(description or "", MAX_DESCRIPTION_LENGTH) or None
        super().__init__(self.error)


class InvalidIdTokenError(UpstreamIdpError):
    """The ID token failed a check of OpenID Connect Core §3.1.3.7; ``reason`` names which."""

    status_code = 400

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnusableIdentityError(UpstreamIdpError):
    """The IdP vouched for no usable identity (no subject, no email)."""

    status_code = 400


class FlowStateError(UpstreamIdpError):
    """The callback's ``state`` does not belong to a sign-in this browser started less than 10
    minutes ago, or was already used (RFC 6749 §10.12)."""

    status_code = 400
    title = "Sign-in expired"


def oauth_text(value: str, limit: int) -> str:
    """``value`` without characters RFC 6749 forbids in error values, cut to ``limit`` characters."""
    return _NOT_OAUTH_TEXT.sub("", value)[:limit]


class AccountRefusedError(UpstreamIdpError):
    """A provider-level rule refused the account (Google's ``hosted_domain``)."""

    status_code = 403
    title = "Access denied"
