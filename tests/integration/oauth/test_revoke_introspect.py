"""Revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

import base64
import json

import pytest

from app.runtime import Runtime
from tests.support.clock import FakeClock
from tests.support.oauth import GITHUB, ISSUER, OAuthFlow

pytestmark = pytest.mark.anyio


def jti_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


async def test_introspection_describes_an_active_access_token(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 7662 §2.2)."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    body = await flow.introspect(client["client_id"], tokens["access_token"])
    assert body["active"] is True
    assert (body["client_id"], body["sub"], body["aud"], body["iss"]) == (
        client["client_id"],
        "user-alice",
        GITHUB,
        ISSUER,
    )
    assert (body["scope"], body["email"], body["token_type"]) == ("mcp", "alice@example.com", "Bearer")


async def test_introspection_describes_an_active_refresh_token(flow: OAuthFlow) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    body = await flow.introspect(client["client_id"], tokens["refresh_token"])
    assert (body["active"], body["token_type"], body["aud"]) == (True, "refresh_token", GITHUB)


async def test_an_expired_access_token_is_inactive(flow: OAuthFlow, clock: FakeClock) -> None:
    """Spec-mandated (RFC 7662 §2.2: expired → active false)."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    clock.advance(3600 + 31)
    assert await flow.introspect(client["client_id"], tokens["access_token"]) == {"active": False}


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."])
async def test_unknown_tokens_are_inactive(flow: OAuthFlow, token: str) -> None:
    client = await flow.register()
    assert await flow.introspect(client["client_id"], token) == {"active": False}


async def test_another_clients_token_is_inactive_to_introspection(flow: OAuthFlow) -> None:
    """Our choice: a client may only introspect its own tokens."""
    owner, other = await flow.register(), await flow.register()
    tokens = await flow.tokens(owner["client_id"])
    assert await flow.introspect(other["client_id"], tokens["access_token"]) == {"active": False}


async def test_a_spent_refresh_token_is_inactive(flow: OAuthFlow) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    await flow.refresh(client["client_id"], tokens["refresh_token"])
    assert await flow.introspect(client["client_id"], tokens["refresh_token"]) == {"active": False}


async def test_revoking_a_refresh_token_revokes_its_grant(flow: OAuthFlow, runtime: Runtime) -> None:
    """Spec-mandated SHOULD (RFC 7009 §2.1: also invalidate the access tokens of the same grant)."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    data = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token", "client_id": client["client_id"]}
    response = await flow.http.post("/revoke", data=data)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await flow.introspect(client["client_id"], tokens["access_token"]))["active"] is False
    assert runtime.revoked_tokens.is_revoked(jti_of(tokens["access_token"]), runtime.clock.now().timestamp())


async def test_revoking_an_access_token_revokes_only_it(flow: OAuthFlow, runtime: Runtime) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    response = await flow.http.post("/revoke", data={"token": tokens["access_token"], "client_id": client["client_id"]})
    assert response.status_code == 200
    assert (await flow.introspect(client["client_id"], tokens["access_token"]))["active"] is False
    assert runtime.revoked_tokens.is_revoked(jti_of(tokens["access_token"]), runtime.clock.now().timestamp())
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


async def test_revoking_an_unknown_token_answers_200(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 7009 §2.2)."""
    client = await flow.register()
    response = await flow.http.post("/revoke", data={"token": "unknown", "client_id": client["client_id"]})
    assert response.status_code == 200


async def test_revoking_needs_the_token_parameter(flow: OAuthFlow) -> None:
    client = await flow.register()
    response = await flow.http.post("/revoke", data={"client_id": client["client_id"]})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_revoking_another_clients_token_is_refused(flow: OAuthFlow) -> None:
    owner, other = await flow.register(), await flow.register()
    tokens = await flow.tokens(owner["client_id"])
    response = await flow.http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": other["client_id"]})
    assert response.status_code == 400
    assert (await flow.refresh(owner["client_id"], tokens["refresh_token"])).status_code == 200


async def test_revoking_without_client_authentication_is_401(flow: OAuthFlow) -> None:
    response = await flow.http.post("/revoke", data={"token": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_introspecting_without_client_authentication_is_401(flow: OAuthFlow) -> None:
    """Issue #15 finding 10 (RFC 7662 §2.1: the endpoint requires authorization): no client, no answer."""
    response = await flow.http.post("/introspect", data={"token": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_confidential_client_must_authenticate_to_introspect(flow: OAuthFlow) -> None:
    """Issue #15 finding 10: a client registered with a secret cannot introspect by naming its client_id."""
    client = await flow.register(token_endpoint_auth_method="client_secret_post")
    tokens = await flow.tokens(client["client_id"], client_secret=client["client_secret"])
    without = await flow.http.post(
        "/introspect", data={"token": tokens["access_token"], "client_id": client["client_id"]}
    )
    assert (without.status_code, without.json()["error"]) == (401, "invalid_client")
    wrong = {"token": tokens["access_token"], "client_id": client["client_id"], "client_secret": "not-the-secret"}
    assert (await flow.http.post("/introspect", data=wrong)).status_code == 401
    right = {
        "token": tokens["access_token"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    answer = await flow.http.post("/introspect", data=right)
    assert (answer.status_code, answer.json()["active"]) == (200, True)


async def test_a_confidential_client_sees_only_its_own_tokens(flow: OAuthFlow) -> None:
    """Issue #15 finding 10: authenticating does not widen what introspection reveals (no resource-server role)."""
    public = await flow.register()
    tokens = await flow.tokens(public["client_id"])
    confidential = await flow.register(token_endpoint_auth_method="client_secret_post")
    form = {
        "token": tokens["access_token"],
        "client_id": confidential["client_id"],
        "client_secret": confidential["client_secret"],
    }
    answer = await flow.http.post("/introspect", data=form)
    assert answer.json() == {"active": False}
