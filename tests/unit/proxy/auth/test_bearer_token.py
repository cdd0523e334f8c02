"""Where the bearer token may come from: one ``Authorization: Bearer`` header (RFC 6750 §2.1, §3.1)."""

from __future__ import annotations

import pytest

from oauth.tokens.resources import ProtectedResource
from proxy.auth.resource_server import (
    AuthenticationRequiredError,
    InvalidRequestError,
    InvalidTokenError,
    ResourceServerError,
    bearer_token,
)

GITHUB = ProtectedResource(
    server="github",
    kind="mcp",
    path="/github/mcp",
    resource="https://gw.example.com/github/mcp",
    metadata_url="https://gw.example.com/.well-known/oauth-protected-resource/github/mcp",
)
JWT_LIKE = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    """Spec-mandated: auth-scheme is case-insensitive (RFC 9110 §11.1)."""
    assert bearer_token([f"{scheme} {JWT_LIKE}"], GITHUB) == JWT_LIKE


def test_b64token_with_padding_and_every_allowed_character_is_accepted() -> None:
    """Spec-mandated: RFC 6750 §2.1 b64token syntax."""
    token = "AZaz09-._~+/=="
    assert bearer_token([f"Bearer {token}"], GITHUB) == token


@pytest.mark.parametrize("headers", [[], ["Basic dXNlcjpwYXNz"], ["Bearerabc"], ['Digest username="a", realm="b"']])
def test_no_bearer_credentials_is_authentication_required_without_error(headers: list[str]) -> None:
    """Spec-mandated: RFC 6750 §3.1, an unsupported method counts as no authentication information."""
    with pytest.raises(AuthenticationRequiredError) as caught:
        bearer_token(headers, GITHUB)
    assert (caught.value.status_code, caught.value.error) == (401, None)


@pytest.mark.parametrize(
    "headers",
    [
        [f"Bearer {JWT_LIKE}", f"Bearer {JWT_LIKE}"],
        [f"Bearer {JWT_LIKE}", "Basic dXNlcjpwYXNz"],
        [f"Bearer {JWT_LIKE}, Basic dXNlcjpwYXNz"],
        [f"Basic dXNlcjpwYXNz, Bearer {JWT_LIKE}"],
        [f"Bearer {JWT_LIKE}, Bearer {JWT_LIKE}"],
    ],
)
def test_more_than_one_credential_is_invalid_request(headers: list[str]) -> None:
    """Spec-mandated: RFC 6750 §3.1 invalid_request (more than one method / repeated parameter) is 400."""
    with pytest.raises(InvalidRequestError) as caught:
        bearer_token(headers, GITHUB)
    assert (caught.value.status_code, caught.value.error) == (400, "invalid_request")


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", 'Bearer a"b', "Bearer a=b", "Bearer ="])
def test_malformed_bearer_credential_is_invalid_token(value: str) -> None:
    """Spec-mandated: RFC 6750 §3.1, a malformed access token is invalid_token (401)."""
    with pytest.raises(InvalidTokenError) as caught:
        bearer_token([value], GITHUB)
    assert (caught.value.status_code, caught.value.error) == (401, "invalid_token")


def test_rejection_description_never_contains_the_token() -> None:
    """Our choice: descriptions are fixed phrases, so a token cannot leak into headers or logs."""
    for headers in ([f"Bearer {JWT_LIKE} x"], [f"Bearer {JWT_LIKE}", f"Bearer {JWT_LIKE}"]):
        with pytest.raises(ResourceServerError) as caught:
            bearer_token(headers, GITHUB)
        assert JWT_LIKE not in caught.value.description
        assert JWT_LIKE not in caught.value.www_authenticate
