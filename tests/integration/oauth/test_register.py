"""Dynamic Client Registration (RFC 7591)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from app.db import transaction
from app.runtime import Runtime
from oauth.store.clients import ClientRow
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.clock import FakeClock
from tests.support.oauth import CLAUDE_CALLBACK

pytestmark = pytest.mark.anyio


async def register(http: httpx2.AsyncClient, **metadata: Any) -> httpx2.Response:
    body: dict[str, Any] = {"redirect_uris": [CLAUDE_CALLBACK], "client_name": "Claude"}
    body.update(metadata)
    return await http.post("/register", json={k: v for k, v in body.items() if v is not None})


async def test_public_client_gets_201_with_client_id_issued_at_and_no_secret(
    http: httpx2.AsyncClient, clock: FakeClock
) -> None:
    """Spec-mandated (RFC 7591 §3.2.1)."""
    response = await register(http, token_endpoint_auth_method="none")
    assert response.status_code == 201
    body = response.json()
    assert body["client_id"]
    assert body["client_id_issued_at"] == int(clock.now().timestamp())
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert body["redirect_uris"] == [CLAUDE_CALLBACK]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic", None])
async def test_confidential_client_gets_its_secret_once_and_it_is_stored_hashed(
    http: httpx2.AsyncClient, runtime: Runtime, method: str | None
) -> None:
    """Spec-mandated (RFC 7591 §2: default method client_secret_basic); our choice: HMAC-hashed at rest."""
    response = await register(http, token_endpoint_auth_method=method)
    assert response.status_code == 201
    body = response.json()
    assert body["token_endpoint_auth_method"] == (method or "client_secret_basic")
    assert len(body["client_secret"]) >= 32 and body["client_secret_expires_at"] == 0
    with transaction(runtime.db) as db:
        row = db.scalars(select(ClientRow).where(ClientRow.client_id == body["client_id"])).one()
    assert row.client_secret_hash is not None and body["client_secret"] not in row.client_secret_hash


@pytest.mark.parametrize(
    "uris",
    [
        ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"],
        ["http://127.0.0.1/callback", "http://localhost/callback", "http://[::1]:8000/cb"],
    ],
)
async def test_https_and_loopback_redirect_uris_are_accepted(http: httpx2.AsyncClient, uris: list[str]) -> None:
    """Spec-mandated (MCP authorization: redirect URIs MUST be localhost or HTTPS); Claude's work out of the box."""
    response = await register(http, redirect_uris=uris, application_type="native")
    assert response.status_code == 201
    assert response.json()["redirect_uris"] == uris
    assert response.json()["application_type"] == "native"


@pytest.mark.parametrize(
    "uris",
    [
        ["http://app.example.com/cb"],
        ["https://app.example.com/cb#fragment"],
        ["cursor://anysphere/callback"],
        [],
        "https://app.example.com/cb",
        None,
        ["https://client.example/cb\r\nSet-Cookie: x=1"],
        ["https://evil.com\\.example.com/cb"],
        ["https://client.example/cb\x00"],
        ["https://client.example/c b"],
        ["https://client.example@evil.example/cb"],
        ["https://0x7f.0.0.1/cb"],
        ["https://evil.com%2F.example.com/cb"],
    ],
)
async def test_bad_redirect_uris_are_invalid_redirect_uri(http: httpx2.AsyncClient, uris: object) -> None:
    """Spec-mandated (RFC 7591 §3.2.2; RFC 6749 §3.1.2: no fragment)."""
    response = await http.post("/register", json={"redirect_uris": uris, "token_endpoint_auth_method": "none"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_redirect_uri")
    assert response.headers["cache-control"] == "no-store"


async def test_allowed_redirect_uri_patterns_are_enforced(make_runtime: RuntimeFactory) -> None:
    """Our choice (issue rule): ``oauth.allowed_redirect_uris`` narrows what may be registered."""
    from app.main import create_app

    runtime = make_runtime(oauth={"allowed_redirect_uris": ["https://claude.ai/*/auth_callback", "http://127.0.0.1/*"]})
    transport = httpx2.ASGITransport(app=create_app(runtime=runtime))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        claude = await register(http, redirect_uris=["https://claude.ai/mcp/auth_callback"])
        loopback = await register(http, redirect_uris=["http://127.0.0.1:4711/callback"])
        other = await register(http, redirect_uris=["https://claude.com/api/mcp/auth_callback"])
    assert (claude.status_code, loopback.status_code) == (201, 201)
    assert (other.status_code, other.json()["error"]) == (400, "invalid_redirect_uri")


@pytest.mark.parametrize("scope", ["claudeai", "read write", "", "mcp offline_access"])
async def test_unknown_scopes_are_substituted_not_refused(http: httpx2.AsyncClient, scope: str) -> None:
    """Our choice (issue rule "scopes are lenient"; RFC 7591 §3.2.1 allows substitution)."""
    response = await register(http, scope=scope, token_endpoint_auth_method="none")
    assert response.status_code == 201
    assert response.json()["scope"] in ("mcp", "mcp offline_access")


async def test_unsupported_grant_types_are_substituted(http: httpx2.AsyncClient) -> None:
    """Our choice: Claude's documents list jwt-bearer; registration still succeeds with what Portico supports."""
    grant_types = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
    response = await register(http, grant_types=grant_types, token_endpoint_auth_method="none")
    assert response.status_code == 201
    assert response.json()["grant_types"] == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize(
    "metadata",
    [
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"application_type": "desktop"},
        {"client_name": 42},
        {"client_uri": "not a url"},
        {"response_types": ["token"]},
    ],
)
async def test_invalid_metadata_is_invalid_client_metadata(http: httpx2.AsyncClient, metadata: dict[str, Any]) -> None:
    """Spec-mandated (RFC 7591 §3.2.2)."""
    response = await register(http, **metadata)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")


@pytest.mark.parametrize(
    "client_name",
    [
        "\u202eevil\u202c Claude Desktop",  # RIGHT-TO-LEFT OVERRIDE
        "Claude\u200b Desktop",  # ZERO WIDTH SPACE
        "Claude\x1b[2J",
        "\u0421laude Desktop",  # Cyrillic ES in a Latin name
    ],
)
async def test_client_names_that_could_disguise_themselves_are_invalid_client_metadata(
    http: httpx2.AsyncClient, runtime: Runtime, client_name: str
) -> None:
    """Our choice (issue #15 finding 7); the error code is RFC 7591 §3.2.2's. Nothing is stored."""
    response = await register(http, client_name=client_name, token_endpoint_auth_method="none")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")
    with transaction(runtime.db) as db:
        assert db.scalars(select(ClientRow)).first() is None


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_json_object_is_refused(http: httpx2.AsyncClient, content: bytes) -> None:
    response = await http.post("/register", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_client_metadata", "invalid_request")


async def test_registration_is_rate_limited_per_client_ip(make_runtime: RuntimeFactory, clock: FakeClock) -> None:
    """Our choice (issue rule): ``oauth.registrations_per_minute`` per address, then 429 (deprecated key: it
    sets the default ``/register`` token bucket, N/minute with a burst of N; docs/limits.md)."""
    from app.main import create_app

    app = create_app(runtime=make_runtime(oauth={"registrations_per_minute": 2}))
    first_ip = httpx2.ASGITransport(app=app, client=("203.0.113.1", 1234))
    second_ip = httpx2.ASGITransport(app=app, client=("203.0.113.2", 1234))
    async with httpx2.AsyncClient(transport=first_ip, base_url="http://127.0.0.1:8080") as http:
        statuses = [(await register(http, token_endpoint_auth_method="none")).status_code for _ in range(3)]
        refused = await register(http, token_endpoint_auth_method="none")
        clock.advance(61)
        after_a_minute = await register(http, token_endpoint_auth_method="none")
    async with httpx2.AsyncClient(transport=second_ip, base_url="http://127.0.0.1:8080") as other:
        elsewhere = await register(other, token_endpoint_auth_method="none")
    assert statuses == [201, 201, 429]
    assert refused.json()["error"] == "too_many_requests"
    assert refused.headers["retry-after"] == "30"  # one token of 2/minute refills in 30 s
    assert (after_a_minute.status_code, elsewhere.status_code) == (201, 201)
