"""PKCE (RFC 7636), S256 only, as OAuth 2.1 §4.1.1 and the MCP authorization spec require.

A missing ``code_challenge``, a missing ``code_challenge_method`` (which would default to
``plain``) and ``plain`` itself are refused at the authorization endpoint; verifiers are
compared in constant time (RFC 7636 §4.6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

S256 = "S256"


def s256_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_s256(code_verifier: str, code_challenge: str) -> bool:
    """True when the verifier matches the challenge; constant-time comparison."""
    try:
        expected = s256_challenge(code_verifier)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode(), code_challenge.encode())


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """Authlib's PKCE extension restricted to S256 and made mandatory at /authorize."""

    DEFAULT_CODE_CHALLENGE_METHOD = S256
    SUPPORTED_CODE_CHALLENGE_METHOD = [S256]
    CODE_CHALLENGE_METHODS = {S256: verify_s256}

    def validate_code_challenge(self, grant: object, redirect_uri: str) -> None:
        data = grant.request.payload.data  # type: ignore[attr-defined]
        if not data.get("code_challenge"):
            raise InvalidRequestError("code_challenge is required (PKCE with S256)")
        if data.get("code_challenge_method") != S256:
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)
