"""Bearer protection of the MCP routes (RFC 6750, RFC 9728 §5, MCP authorization), in-process.

The routes under test are test-only (see conftest): they use the same dependencies as the real
``/<server>/mcp`` and ``/<server>/sse`` routes and echo the claims they receive.
"""

from __future__ import annotations

import base64
import json
import logging

import httpx2
import pytest
from joserfc.jwk import ECKey, KeySet

from app.runtime import Runtime
from oauth.tokens.access_tokens import issue_access_token
from oauth.tokens.signing_keys import SigningKeys
from tests.integration.proxy.conftest import PUBLIC_URL, Mint
from tests.support.challenge_parser import parse_bearer_challenge
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

GITHUB_MCP = f"{PUBLIC_URL}/github/mcp"
GITHUB_MCP_METADATA = f"{PUBLIC_URL}/.well-known/oauth-protected-resource/github/mcp"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def challenge(response: httpx2.Response) -> dict[str, str]:
    """The strictly parsed challenge, after the headers every rejection carries."""
    assert response.headers["access-control-expose-headers"] == "WWW-Authenticate"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers.get_list("www-authenticate")) == 1
    return parse_bearer_challenge(response.headers["www-authenticate"])


def assert_invalid_token(response: httpx2.Response, reason: str) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{reason}", '
        f'resource_metadata="{GITHUB_MCP_METADATA}", scope="mcp"'
    )
    assert challenge(response)["error"] == "invalid_token"
    assert response.json() == {"error": "invalid_token", "error_description": reason}


async def test_request_without_token_gets_401_naming_metadata_and_scope_without_error(
    http: httpx2.AsyncClient,
) -> None:
    """Spec-mandated: RFC 6750 §3.1 (no error code without credentials), RFC 9728 §5.1, MCP §Scope Challenge."""
    response = await http.post("/github/mcp", json=INITIALIZE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer resource_metadata="{GITHUB_MCP_METADATA}", scope="mcp"'
    assert challenge(response) == {"resource_metadata": GITHUB_MCP_METADATA, "scope": "mcp"}
    assert response.json() == {"error": "invalid_token", "error_description": "authentication required"}


async def test_challenge_leads_to_metadata_whose_resource_is_the_called_url(http: httpx2.AsyncClient) -> None:
    """Spec-mandated: RFC 9728 §3.3, a ``resource`` reached via WWW-Authenticate must equal the URL called."""
    for called in ("/github/mcp", "/jira/sse"):
        response = await http.get(called)
        metadata_url = challenge(response)["resource_metadata"]
        document = (await http.get(metadata_url)).json()
        assert document["resource"] == f"{PUBLIC_URL}{called}"
        assert document["authorization_servers"] == [PUBLIC_URL]


async def test_token_in_query_string_is_never_read(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: MCP authorization §Token Requirements (no tokens in the URI query)."""
    response = await http.post("/github/mcp", params={"access_token": mint()}, json=INITIALIZE)
    assert response.status_code == 401
    assert "error" not in challenge(response)


async def test_other_authorization_scheme_counts_as_no_credentials(http: httpx2.AsyncClient) -> None:
    """Spec-mandated: RFC 6750 §3.1 (an unsupported method is answered as a missing one)."""
    response = await http.post("/github/mcp", headers={"Authorization": "Basic dXNlcjpwYXNz"}, json=INITIALIZE)
    assert response.status_code == 401
    assert "error" not in challenge(response)


async def test_two_authorization_headers_are_invalid_request(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: RFC 6750 §3.1, invalid_request is 400."""
    token = mint()
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    response = await http.post("/github/mcp", headers=headers, json=INITIALIZE)
    assert response.status_code == 400
    assert challenge(response)["error"] == "invalid_request"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("value", "status", "error"),
    [
        ("Bearer", 401, "invalid_token"),
        ("Bearer not a token", 401, "invalid_token"),
        ("Bearer a,b", 400, "invalid_request"),
    ],
)
async def test_malformed_bearer_header_is_rejected(
    http: httpx2.AsyncClient, value: str, status: int, error: str
) -> None:
    """Spec-mandated: RFC 6750 §3.1 (malformed token: invalid_token; two credentials: invalid_request)."""
    response = await http.post("/github/mcp", headers={"Authorization": value}, json=INITIALIZE)
    assert (response.status_code, challenge(response)["error"], response.json()["error"]) == (status, error, error)


async def test_garbage_token_is_invalid_token(http: httpx2.AsyncClient) -> None:
    """Spec-mandated: MCP authorization §Token Handling (invalid → 401)."""
    response = await http.post("/github/mcp", headers=bearer("not-a-jwt"), json=INITIALIZE)
    assert_invalid_token(response, "token signature or format is invalid")


async def test_expired_token_is_invalid_token(
    http: httpx2.AsyncClient, mint: Mint, clock: FakeClock, runtime: Runtime
) -> None:
    """Spec-mandated: OAuth 2.1 §5.2; expiry is checked with 30 s leeway (our choice, in oauth.tokens.access_tokens)."""
    token = mint()
    clock.advance(runtime.config.oauth.access_token_lifetime + 31)
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token expired")


async def test_token_within_the_expiry_leeway_is_still_accepted(
    http: httpx2.AsyncClient, mint: Mint, clock: FakeClock, runtime: Runtime
) -> None:
    """Our choice: 30 s clock-skew leeway."""
    token = mint()
    clock.advance(runtime.config.oauth.access_token_lifetime + 29)
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert response.status_code == 200


@pytest.mark.parametrize("other", ["/jira/mcp", "/github/sse"])
async def test_token_for_another_route_is_invalid_token(http: httpx2.AsyncClient, mint: Mint, other: str) -> None:
    """Spec-mandated: RFC 8707 §2 / MCP authorization §Token Audience Binding (one token, one route)."""
    response = await http.post("/github/mcp", headers=bearer(mint(other)), json=INITIALIZE)
    assert_invalid_token(response, "token is for another resource")


async def test_token_from_another_issuer_is_invalid_token(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: MCP authorization §Token Handling (tokens of other issuers are refused)."""
    response = await http.post("/github/mcp", headers=bearer(mint(issuer="https://accounts.example")), json=INITIALIZE)
    assert_invalid_token(response, "token was issued by another issuer")


async def test_token_signed_by_an_unknown_key_is_invalid_token(http: httpx2.AsyncClient, clock: FakeClock) -> None:
    """Spec-mandated: RFC 9068 §4 (signature must verify with the issuer's keys)."""
    key = ECKey.generate_key("P-256", auto_kid=True)
    token, _ = issue_access_token(
        SigningKeys(signing_key=key, verification_keys=KeySet([key])),
        issuer=PUBLIC_URL,
        subject="user-42",
        audience=GITHUB_MCP,
        client_id="client-1",
        scopes={"mcp"},
        now=clock.now(),
        lifetime=3600,
    )
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token signature or format is invalid")


async def test_unsigned_alg_none_token_is_invalid_token(http: httpx2.AsyncClient, clock: FakeClock) -> None:
    """Spec-mandated: RFC 9068 §4 (alg none MUST NOT be accepted)."""

    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(clock.now().timestamp())
    claims: dict[str, object] = {"iss": PUBLIC_URL, "sub": "u", "aud": GITHUB_MCP, "client_id": "c", "scope": "mcp"}
    claims |= {"exp": now + 3600, "iat": now, "jti": "j"}
    token = f"{segment({'typ': 'at+jwt', 'alg': 'none'})}.{segment(claims)}."
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token signature or format is invalid")


async def test_revoked_token_is_invalid_token(http: httpx2.AsyncClient, runtime: Runtime, clock: FakeClock) -> None:
    """Spec-mandated: OAuth 2.1 §5.2 (revoked tokens are refused); revocation list is in-process."""
    token, claims = issue_access_token(
        runtime.signing_keys,
        issuer=PUBLIC_URL,
        subject="user-42",
        audience=GITHUB_MCP,
        client_id="client-1",
        scopes={"mcp"},
        now=clock.now(),
        lifetime=3600,
    )
    runtime.revoked_tokens.revoke(claims.jwt_id, claims.expires_at)
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token was revoked")


async def test_token_without_the_mcp_scope_is_403_insufficient_scope(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: MCP authorization §Scope Challenge Handling, RFC 6750 §3.1 (403 insufficient_scope)."""
    response = await http.post("/github/mcp", headers=bearer(mint(scopes={"profile"})), json=INITIALIZE)
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="mcp", resource_metadata="{GITHUB_MCP_METADATA}", '
        'error_description="the token lacks the scope mcp"'
    )
    assert challenge(response)["scope"] == "mcp"
    assert response.json() == {"error": "insufficient_scope", "error_description": "the token lacks the scope mcp"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_valid_token_reaches_the_route_with_its_claims(http: httpx2.AsyncClient, mint: Mint, scheme: str) -> None:
    """Spec-mandated: RFC 9110 §11.1 (scheme is case-insensitive); the route sees the verified claims."""
    token = mint(scopes={"mcp", "profile"})
    response = await http.post("/github/mcp", headers=bearer(token, scheme), json=INITIALIZE)
    assert response.status_code == 200
    assert response.json() == {
        "sub": "user-42",
        "aud": GITHUB_MCP,
        "client_id": "client-1",
        "scope": ["mcp", "profile"],
    }


async def test_sse_route_accepts_its_own_token(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: RFC 8707 §2, the SSE route is its own resource."""
    response = await http.get("/jira/sse", headers=bearer(mint("/jira/sse")))
    assert response.status_code == 200
    assert response.json()["aud"] == f"{PUBLIC_URL}/jira/sse"


async def test_an_unknown_server_is_answered_like_a_known_one_without_a_token(
    http: httpx2.AsyncClient, mint: Mint
) -> None:
    """Our choice (issue #15 finding 9): the answers do not tell which servers are configured."""
    for token in (None, mint()):
        headers = bearer(token) if token else {}
        known = await http.post("/jira/mcp", json=INITIALIZE, headers=headers)
        unknown = await http.post("/nope/mcp", json=INITIALIZE, headers=headers)
        assert known.status_code == 401
        assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
        assert unknown.headers["www-authenticate"] == known.headers["www-authenticate"].replace("/jira/", "/nope/")


async def test_tokens_never_reach_the_logs(
    http: httpx2.AsyncClient, mint: Mint, caplog: pytest.LogCaptureFixture
) -> None:
    """Our choice (docs/errors: never log tokens): rejections log the reason, not the credential."""
    caplog.set_level(logging.DEBUG)
    tokens = [mint(), mint("/jira/mcp"), mint(scopes=set()), "garbage-token-value"]
    for token in tokens:
        await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert "refused" in caplog.text
    assert not any(token in caplog.text for token in tokens)


async def test_a_token_revoked_after_use_is_refused_on_its_next_call(
    http: httpx2.AsyncClient, runtime: Runtime, clock: FakeClock
) -> None:
    """Spec-mandated: OAuth 2.1 §5.2; our choice: verified tokens are cached, the revocation list is not."""
    token, claims = issue_access_token(
        runtime.signing_keys,
        issuer=PUBLIC_URL,
        subject="user-42",
        audience=GITHUB_MCP,
        client_id="client-1",
        scopes={"mcp"},
        now=clock.now(),
        lifetime=3600,
    )
    assert (await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)).status_code == 200
    runtime.revoked_tokens.revoke(claims.jwt_id, claims.expires_at)
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token was revoked")


async def test_a_used_token_is_refused_once_it_expires(
    http: httpx2.AsyncClient, mint: Mint, clock: FakeClock, runtime: Runtime
) -> None:
    """Spec-mandated: OAuth 2.1 §5.2; a cached verification never outlives the token (30 s leeway as before)."""
    token = mint()
    assert (await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)).status_code == 200
    clock.advance(runtime.config.oauth.access_token_lifetime + 31)
    response = await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)
    assert_invalid_token(response, "token expired")


async def test_a_used_token_is_still_refused_at_another_route(http: httpx2.AsyncClient, mint: Mint) -> None:
    """Spec-mandated: RFC 8707 §2; the cache is per audience."""
    token = mint()
    assert (await http.post("/github/mcp", headers=bearer(token), json=INITIALIZE)).status_code == 200
    response = await http.post("/jira/mcp", headers=bearer(token), json=INITIALIZE)
    assert response.status_code == 401
    assert response.json()["error_description"] == "token is for another resource"
