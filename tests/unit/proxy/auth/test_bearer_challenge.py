"""``WWW-Authenticate: Bearer`` challenges (RFC 6750 §3, RFC 9728 §5.1) and the error body."""

from __future__ import annotations

import json

import pytest

from oauth.tokens.resources import ProtectedResource
from proxy.auth.challenge import error_body, quoted_string, safe_text, www_authenticate
from tests.support.challenge_parser import parse_bearer_challenge

METADATA_URL = "https://gw.example.com/.well-known/oauth-protected-resource/github/mcp"
GITHUB = ProtectedResource(
    server="github",
    kind="mcp",
    path="/github/mcp",
    resource="https://gw.example.com/github/mcp",
    metadata_url=METADATA_URL,
)


def test_challenge_without_credentials_names_metadata_and_scope_but_no_error() -> None:
    """Spec-mandated: RFC 6750 §3.1 (no error code when no credentials were sent), RFC 9728 §5.1."""
    assert www_authenticate(GITHUB, None, None) == f'Bearer resource_metadata="{METADATA_URL}", scope="mcp"'


def test_invalid_token_challenge_has_error_description_metadata_and_scope_in_that_order() -> None:
    """Our choice of order, after the MCP authorization spec's example; RFC 6750 §3 leaves it free."""
    challenge = www_authenticate(GITHUB, "invalid_token", "token expired")
    assert challenge == (
        f'Bearer error="invalid_token", error_description="token expired", resource_metadata="{METADATA_URL}", '
        'scope="mcp"'
    )


def test_insufficient_scope_challenge_leads_with_error_and_scope() -> None:
    """Spec-mandated content (MCP authorization §Scope Challenge Handling); order as the spec's example."""
    challenge = www_authenticate(GITHUB, "insufficient_scope", "the token lacks the scope mcp")
    assert challenge == (
        f'Bearer error="insufficient_scope", scope="mcp", resource_metadata="{METADATA_URL}", '
        'error_description="the token lacks the scope mcp"'
    )


@pytest.mark.parametrize("reason", ['say "hi"', "back\\slash", "line\r\nX-Injected: 1", "caf\u00e9\x00\x7f"])
def test_hostile_reason_stays_inside_one_rfc6750_error_description(reason: str) -> None:
    """Spec-mandated: RFC 6750 §3 restricts error_description to %x20-21 / %x23-5B / %x5D-7E."""
    challenge = www_authenticate(GITHUB, "invalid_token", reason)
    parsed = parse_bearer_challenge(challenge)
    assert "\r" not in challenge and "\n" not in challenge
    assert set(parsed) == {"error", "error_description", "resource_metadata", "scope"}
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in parsed["error_description"])


def test_quoted_string_escapes_quotes_and_backslashes_and_drops_controls() -> None:
    """RFC 9110 §5.6.4 quoted-pair; controls are dropped so no header line can be injected."""
    assert quoted_string('a"b\\c\r\nd') == '"a\\"b\\\\cd"'


def test_safe_text_keeps_printable_ascii_except_quote_and_backslash() -> None:
    assert safe_text('token "x" is\tbad\\') == "token x isbad"


def test_challenges_are_computed_once_per_resource_and_reason() -> None:
    """Our choice: the hot path reuses the same string instead of rebuilding it."""
    assert www_authenticate(GITHUB, "invalid_token", "token expired") is www_authenticate(
        GITHUB, "invalid_token", "token expired"
    )


def test_error_body_is_the_oauth_error_object_the_mcp_sdk_sends() -> None:
    """Our choice, matching mcp.server.auth.middleware.bearer_auth.RequireAuthMiddleware."""
    assert json.loads(error_body("invalid_token", "token expired")) == {
        "error": "invalid_token",
        "error_description": "token expired",
    }
