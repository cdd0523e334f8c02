"""Odd and hostile inputs get OAuth errors or error pages, never a server error (SQLite only: no storage rule here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.oauth import OAuthFlow, Pkce

pytestmark = pytest.mark.anyio


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'portico.db'}"


ODD = ['"quoted"', "back\\slash", "ünïcødé", "a" * 3000, "", "%00", "<script>"]


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("name", ["redirect_uri", "response_type", "state", "scope", "resource", "code_challenge"])
async def test_authorize_never_fails_with_a_server_error(flow: OAuthFlow, name: str, value: str) -> None:
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), **{name: value})
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("name", ["grant_type", "code", "code_verifier", "client_id", "refresh_token", "resource"])
async def test_token_never_fails_with_a_server_error(flow: OAuthFlow, name: str, value: str) -> None:
    client = await flow.register()
    form: dict[str, Any] = {"grant_type": "authorization_code", "code": "x", "client_id": client["client_id"]}
    form[name] = value
    response = await flow.http.post("/token", data=form)
    assert response.status_code in (400, 401)
    assert response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"redirect_uris": ['https://a.example/"cb']},
        {"redirect_uris": ["https://a.example/cb"], "client_name": '"<b>"'},
        {"redirect_uris": ["https://a.example/cb"], "scope": ["list"]},
        {"redirect_uris": ["https://a.example/cb"], "grant_types": "authorization_code"},
        {"redirect_uris": ["https://a.example/cb"], "contacts": "x"},
        {"redirect_uris": [42]},
    ],
)
async def test_register_never_fails_with_a_server_error(flow: OAuthFlow, body: dict[str, Any]) -> None:
    response = await flow.http.post("/register", json=body)
    assert response.status_code in (201, 400)
