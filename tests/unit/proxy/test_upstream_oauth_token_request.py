"""The token requests Portico sends to an upstream's authorization server carry RFC 8707 ``resource``.

A real loopback HTTP server (tests/support/recording_http.py) records each token request.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from app.config.schema import OAuthCredentialsConfig
from proxy.credentials.oauth.client import ClientRegistration, UpstreamOAuthClient
from proxy.credentials.oauth.endpoints import AuthorizationServerEndpoints
from tests.support.recording_http import RecordingServer, recording_server

pytestmark = pytest.mark.anyio
RESOURCE = "https://mcp.example.com/mcp"


@pytest.fixture
def token_endpoint() -> Iterator[RecordingServer]:
    with recording_server({"access_token": "at", "token_type": "Bearer", "expires_in": 60}) as server:
        yield server


def last_form(server: RecordingServer) -> dict[str, list[str]]:
    return parse_qs(server.requests[-1].body.decode())


def client_for(token_url: str) -> UpstreamOAuthClient:
    config = OAuthCredentialsConfig.model_validate(
        {
            "type": "oauth",
            "client_id": "portico",
            "client_secret": "s3cret",
            "authorization_endpoint": "https://as.example.com/authorize",
            "token_endpoint": token_url,
            "resource": RESOURCE,
        }
    )
    endpoints = AuthorizationServerEndpoints("https://as.example.com/authorize", token_url, None)
    return UpstreamOAuthClient("s", config, endpoints, ClientRegistration.configured(config))


async def test_the_code_exchange_sends_the_resource(token_endpoint: RecordingServer) -> None:
    client = client_for(f"http://127.0.0.1:{token_endpoint.port}/token")
    await client.exchange_code(code="c0de", redirect_uri="https://portico.example/cb", code_verifier="v" * 43)
    assert last_form(token_endpoint)["grant_type"] == ["authorization_code"]
    assert last_form(token_endpoint)["resource"] == [RESOURCE]


async def test_a_refresh_sends_the_resource(token_endpoint: RecordingServer) -> None:
    await client_for(f"http://127.0.0.1:{token_endpoint.port}/token").refresh("r3fresh")
    assert last_form(token_endpoint)["grant_type"] == ["refresh_token"]
    assert last_form(token_endpoint)["resource"] == [RESOURCE]
