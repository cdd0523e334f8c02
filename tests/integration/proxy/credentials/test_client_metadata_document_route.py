"""``GET /connections/oauth-client.json``: public, the document an upstream authorization server fetches."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from app.main import create_app
from app.runtime import build_runtime
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
URL = "https://up.example.com/mcp"


async def fetch(make_config: ConfigFactory, credentials: Any) -> httpx2.Response:
    servers = {"linear": {"transport": "streamable-http", "url": URL, "credentials": credentials}}
    runtime = build_runtime(make_config(servers=servers), clock=FakeClock(), env={})
    try:
        transport = httpx2.ASGITransport(app=create_app(runtime=runtime))
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            return await http.get("/connections/oauth-client.json")
    finally:
        runtime.close()


async def test_the_document_is_served_without_signing_in(make_config: ConfigFactory) -> None:
    """Spec-mandated (Client ID Metadata Documents): the client_id is the URL it is fetched from."""
    response = await fetch(make_config, {"type": "oauth", "discover": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["client_id"] == "http://127.0.0.1:8080/connections/oauth-client.json"
    assert document["redirect_uris"] == ["http://127.0.0.1:8080/connections/linear/callback"]


async def test_without_a_server_that_uses_it_there_is_no_document(make_config: ConfigFactory) -> None:
    response = await fetch(make_config, {"type": "oauth", "discover": True, "registration": "dcr"})
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})
