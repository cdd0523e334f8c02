"""The token endpoint with the authorization code grant: PKCE, single use, binding, client authentication."""

from __future__ import annotations

import base64
import json
import logging

import httpx2
import pytest
from sqlalchemy import select

from app.db import transaction
from app.main import create_app
from app.runtime import Runtime
from oauth.housekeeping import delete_idle_clients
from oauth.login.api import current_user
from oauth.store.authorization_codes import AuthorizationCodeRow
from oauth.store.refresh_tokens import RefreshTokenRow
from oauth.tokens.access_tokens import verify_access_token
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.clock import FakeClock
from tests.support.oauth import CLAUDE_CALLBACK, GITHUB, ISSUER, JIRA, Browser, OAuthFlow, Pkce

pytestmark = pytest.mark.anyio


def assert_oauth_error(response: httpx2.Response, status: int, error: str) -> None:
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.headers["cache-control"] == "no-store"
    assert "access_token" not in response.json()


def header_of(token: str) -> dict[str, str]:
    segment = token.split(".")[0]
    header: dict[str, str] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return header


async def test_a_code_is_exchanged_for_an_audience_bound_jwt_and_a_refresh_token(
    flow: OAuthFlow, runtime: Runtime, clock: FakeClock
) -> None:
    """Spec-mandated (RFC 6749 §5.1; RFC 9068; RFC 8707 ``aud``)."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    response = await flow.exchange(client["client_id"], code, pkce)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "mcp")
    assert body["refresh_token"] and "." not in body["refresh_token"]
    header = header_of(body["access_token"])
    assert (header["typ"], header["alg"], header["kid"]) == ("at+jwt", "ES256", runtime.signing_keys.signing_key.kid)
    claims = verify_access_token(
        body["access_token"],
        verification_keys=runtime.signing_keys.verification_keys,
        issuer=ISSUER,
        audience=GITHUB,
        now=clock.now().timestamp(),
    )
    assert (claims.subject, claims.email, claims.client_id) == ("user-alice", "alice@example.com", client["client_id"])
    assert claims.expires_at - claims.issued_at == 3600


async def test_codes_and_refresh_tokens_are_stored_only_as_hashes(flow: OAuthFlow, runtime: Runtime) -> None:
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    tokens = (await flow.exchange(client["client_id"], code, pkce)).json()
    with transaction(runtime.db) as db:
        code_row = db.scalars(select(AuthorizationCodeRow)).one()
        refresh_row = db.scalars(select(RefreshTokenRow)).one()
    assert code not in code_row.code_hash and len(code_row.code_hash) == 64
    assert tokens["refresh_token"] not in refresh_row.token_hash


async def test_access_token_lifetime_is_configurable(make_runtime: RuntimeFactory, browser: Browser) -> None:
    """Our choice (issue rule): configurable, default 1 h."""
    runtime = make_runtime(oauth={"access_token_lifetime": 300})
    app = create_app(runtime=runtime)
    app.dependency_overrides[current_user] = lambda: browser.user
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ISSUER) as http:
        flow = OAuthFlow(http)
        tokens = await flow.tokens((await flow.register())["client_id"])
    assert tokens["expires_in"] == 300


async def test_wrong_code_verifier_is_invalid_grant(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 7636 §4.6)."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    assert_oauth_error(await flow.exchange(client["client_id"], code, Pkce()), 400, "invalid_grant")


async def test_missing_code_verifier_is_refused(flow: OAuthFlow) -> None:
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    response = await flow.exchange(client["client_id"], code, pkce, code_verifier=None)
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "invalid_grant")


async def test_the_challenge_itself_as_verifier_is_refused(flow: OAuthFlow) -> None:
    """Spec-mandated (S256 only): a ``plain``-style verifier never matches."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    assert_oauth_error(
        await flow.exchange(client["client_id"], code, pkce, code_verifier=pkce.challenge), 400, "invalid_grant"
    )


async def test_a_replayed_code_is_refused_and_revokes_the_tokens_it_gave(flow: OAuthFlow, runtime: Runtime) -> None:
    """Spec-mandated (RFC 6749 §4.1.2: MUST deny, SHOULD revoke the tokens issued from the code)."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    first = (await flow.exchange(client["client_id"], code, pkce)).json()
    replay = await flow.exchange(client["client_id"], code, pkce)
    assert_oauth_error(replay, 400, "invalid_grant")
    assert (await flow.introspect(client["client_id"], first["access_token"]))["active"] is False
    assert (await flow.introspect(client["client_id"], first["refresh_token"]))["active"] is False
    assert_oauth_error(await flow.refresh(client["client_id"], first["refresh_token"]), 400, "invalid_grant")
    jti = json.loads(base64.urlsafe_b64decode(first["access_token"].split(".")[1] + "=="))["jti"]
    assert runtime.revoked_tokens.is_revoked(jti, runtime.clock.now().timestamp())


async def test_a_code_of_another_client_is_invalid_grant(flow: OAuthFlow) -> None:
    owner, thief = await flow.register(), await flow.register()
    pkce = Pkce()
    code = await flow.code(owner["client_id"], pkce)
    assert_oauth_error(await flow.exchange(thief["client_id"], code, pkce), 400, "invalid_grant")
    assert (await flow.exchange(owner["client_id"], code, pkce)).status_code == 200


async def test_a_mismatched_redirect_uri_at_the_token_endpoint_is_invalid_grant(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §4.1.3)."""
    client = await flow.register(redirect_uris=[CLAUDE_CALLBACK, "https://claude.com/api/mcp/auth_callback"])
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    response = await flow.exchange(
        client["client_id"], code, pkce, redirect_uri="https://claude.com/api/mcp/auth_callback"
    )
    assert_oauth_error(response, 400, "invalid_grant")


async def test_a_different_resource_at_the_token_endpoint_is_invalid_target(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 8707 §2.2): the token request cannot change the grant's resource."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    assert_oauth_error(await flow.exchange(client["client_id"], code, pkce, resource=JIRA), 400, "invalid_target")


@pytest.mark.parametrize("resource", [None, "HTTP://127.0.0.1:8080/github/mcp/"])
async def test_the_token_request_may_omit_or_respell_the_resource(flow: OAuthFlow, resource: str | None) -> None:
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    response = await flow.exchange(client["client_id"], code, pkce, resource=resource)
    assert response.status_code == 200
    assert (await flow.introspect(client["client_id"], response.json()["access_token"]))["aud"] == GITHUB


async def test_an_expired_code_is_invalid_grant(flow: OAuthFlow, clock: FakeClock) -> None:
    """Our choice (issue rule): codes live 60 s by default."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    clock.advance(61)
    assert_oauth_error(await flow.exchange(client["client_id"], code, pkce), 400, "invalid_grant")


async def test_a_code_just_before_expiry_still_works(flow: OAuthFlow, clock: FakeClock) -> None:
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    clock.advance(59)
    assert (await flow.exchange(client["client_id"], code, pkce)).status_code == 200


async def test_a_deleted_client_gets_401_invalid_client(flow: OAuthFlow, runtime: Runtime, clock: FakeClock) -> None:
    """Our choice (Claude re-registers on 401 invalid_client)."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    clock.advance(91 * 86400)
    assert delete_idle_clients(runtime) == [client["client_id"]]
    response = await flow.refresh(client["client_id"], tokens["refresh_token"])
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_an_unknown_client_gets_401_invalid_client(flow: OAuthFlow) -> None:
    assert_oauth_error(await flow.exchange("no-such-client", "code", Pkce()), 401, "invalid_client")


async def confidential_code(flow: OAuthFlow, method: str) -> tuple[dict[str, str], str, Pkce]:
    client = await flow.register(token_endpoint_auth_method=method)
    pkce = Pkce()
    return client, await flow.code(client["client_id"], pkce), pkce


async def test_confidential_client_authenticates_with_basic(flow: OAuthFlow) -> None:
    client, code, pkce = await confidential_code(flow, "client_secret_basic")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": CLAUDE_CALLBACK,
    }
    response = await flow.http.post("/token", data=form, auth=(client["client_id"], client["client_secret"]))
    assert response.status_code == 200


async def test_confidential_client_authenticates_with_post(flow: OAuthFlow) -> None:
    client, code, pkce = await confidential_code(flow, "client_secret_post")
    response = await flow.exchange(client["client_id"], code, pkce, client_secret=client["client_secret"])
    assert response.status_code == 200


async def test_confidential_client_with_a_wrong_basic_secret_gets_401_with_a_challenge(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §5.2: 401 + WWW-Authenticate when the Authorization header was used)."""
    client, code, pkce = await confidential_code(flow, "client_secret_basic")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": CLAUDE_CALLBACK,
    }
    response = await flow.http.post("/token", data=form, auth=(client["client_id"], "wrong-secret"))
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "wrong-secret" not in response.text


async def test_confidential_client_with_a_wrong_post_secret_gets_401(flow: OAuthFlow) -> None:
    client, code, pkce = await confidential_code(flow, "client_secret_post")
    assert_oauth_error(
        await flow.exchange(client["client_id"], code, pkce, client_secret="wrong"), 401, "invalid_client"
    )


async def test_confidential_client_without_its_secret_gets_401(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §3.2.1): confidential clients MUST authenticate."""
    client, code, pkce = await confidential_code(flow, "client_secret_post")
    assert_oauth_error(await flow.exchange(client["client_id"], code, pkce), 401, "invalid_client")


async def test_missing_grant_type_is_invalid_request(flow: OAuthFlow) -> None:
    assert_oauth_error(await flow.http.post("/token", data={"code": "x"}), 400, "invalid_request")


async def test_a_json_body_is_invalid_request_not_a_framework_error(flow: OAuthFlow) -> None:
    """Our choice (style §3.3): malformed requests get RFC 6749 §5.2 bodies, never ``{"detail": …}``."""
    response = await flow.http.post("/token", json={"grant_type": "authorization_code"})
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_malformed_multipart_body_is_invalid_request(flow: OAuthFlow) -> None:
    headers = {"content-type": "multipart/form-data; boundary=x"}
    assert_oauth_error(await flow.http.post("/token", content=b"garbage", headers=headers), 400, "invalid_request")


async def test_an_unsupported_grant_type_is_refused(flow: OAuthFlow) -> None:
    response = await flow.http.post("/token", data={"grant_type": "password", "client_id": "x"})
    assert_oauth_error(response, 400, "unsupported_grant_type")


async def test_errors_never_echo_the_code_or_verifier(flow: OAuthFlow) -> None:
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    response = await flow.exchange(client["client_id"], code, Pkce())
    assert code not in response.text and pkce.verifier not in response.text


async def test_no_code_token_verifier_or_secret_reaches_the_logs(
    flow: OAuthFlow, caplog: pytest.LogCaptureFixture
) -> None:
    """Our rule: secrets never in logs, even at DEBUG and before redaction (replays logged by client id only)."""
    caplog.set_level(logging.DEBUG)
    client = await flow.register(token_endpoint_auth_method="client_secret_post")
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce)
    tokens = (await flow.exchange(client["client_id"], code, pkce, client_secret=client["client_secret"])).json()
    await flow.exchange(client["client_id"], code, pkce, client_secret=client["client_secret"])  # replay → warning
    assert "replayed" in caplog.text
    for secret in (code, pkce.verifier, client["client_secret"], tokens["access_token"], tokens["refresh_token"]):
        assert secret not in caplog.text
