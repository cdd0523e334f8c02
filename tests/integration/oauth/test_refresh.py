"""The refresh token grant: rotation, replay detection, user re-check, lifetime, binding."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from app.main import create_app
from app.runtime import Runtime
from oauth.login.api import current_user
from oauth.tokens.access_tokens import AccessTokenError, verify_access_token
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.clock import FakeClock
from tests.support.oauth import GITHUB, ISSUER, JIRA, Browser, OAuthFlow

pytestmark = pytest.mark.anyio
GRACE = 10  # oauth.refresh_token_reuse_grace's default


def assert_invalid_grant(response: httpx2.Response) -> None:
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant"), response.text
    assert response.headers["cache-control"] == "no-store"


async def test_refresh_rotates_the_refresh_token(flow: OAuthFlow) -> None:
    """Spec-mandated (OAuth 2.1 §4.3.1: rotate for public clients)."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    response = await flow.refresh(client["client_id"], first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = await flow.refresh(client["client_id"], second["refresh_token"])
    assert third.status_code == 200


async def test_refresh_tokens_are_issued_without_offline_access(flow: OAuthFlow) -> None:
    """Our choice (issue rule): Claude rarely asks for offline_access."""
    client = await flow.register()
    assert (await flow.tokens(client["client_id"]))["refresh_token"]


async def test_a_replayed_refresh_token_revokes_the_whole_family(flow: OAuthFlow, clock: FakeClock) -> None:
    """Spec-mandated (OAuth 2.1 §4.3.1 reuse detection): the newest token dies too (past the grace window)."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    second = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
    clock.advance(GRACE + 1)
    assert_invalid_grant(await flow.refresh(client["client_id"], first["refresh_token"]))
    assert_invalid_grant(await flow.refresh(client["client_id"], second["refresh_token"]))
    assert (await flow.introspect(client["client_id"], second["access_token"]))["active"] is False
    assert (await flow.introspect(client["client_id"], first["access_token"]))["active"] is False


async def test_a_spent_token_presented_again_within_the_grace_window_gets_a_fresh_pair(
    flow: OAuthFlow, clock: FakeClock
) -> None:
    """Our choice (reference: Claude refreshes concurrently): a short reuse grace, same family."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    second = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
    clock.advance(GRACE)
    again = await flow.refresh(client["client_id"], first["refresh_token"])
    assert again.status_code == 200, again.text
    third = again.json()
    assert third["refresh_token"] not in {first["refresh_token"], second["refresh_token"]}
    for tokens in (second, third):
        assert (await flow.introspect(client["client_id"], tokens["access_token"]))["active"] is True


async def test_using_one_of_the_graced_siblings_revokes_the_others(flow: OAuthFlow) -> None:
    """Our choice: the branch the client kept wins; the unused sibling is dead."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    kept, _dropped = [(await flow.refresh(client["client_id"], first["refresh_token"])).json() for _ in range(2)]
    fourth = await flow.refresh(client["client_id"], kept["refresh_token"])
    assert fourth.status_code == 200
    assert (await flow.refresh(client["client_id"], fourth.json()["refresh_token"])).status_code == 200


async def test_presenting_a_dropped_sibling_later_revokes_the_family(flow: OAuthFlow) -> None:
    """Our choice: someone who took the other branch (a thief racing within the window) is caught."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    kept, dropped = [(await flow.refresh(client["client_id"], first["refresh_token"])).json() for _ in range(2)]
    fourth = (await flow.refresh(client["client_id"], kept["refresh_token"])).json()
    assert_invalid_grant(await flow.refresh(client["client_id"], dropped["refresh_token"]))
    assert_invalid_grant(await flow.refresh(client["client_id"], fourth["refresh_token"]))
    assert (await flow.introspect(client["client_id"], fourth["access_token"]))["active"] is False


async def test_once_a_successor_was_used_the_grace_window_no_longer_applies(flow: OAuthFlow) -> None:
    """Our choice: the holder of the successor moved on, so the old token in other hands is theft."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    second = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
    third = (await flow.refresh(client["client_id"], second["refresh_token"])).json()
    assert_invalid_grant(await flow.refresh(client["client_id"], first["refresh_token"]))
    assert_invalid_grant(await flow.refresh(client["client_id"], third["refresh_token"]))
    assert (await flow.introspect(client["client_id"], third["access_token"]))["active"] is False


async def test_another_client_cannot_use_the_grace_window(flow: OAuthFlow) -> None:
    owner, thief = await flow.register(), await flow.register()
    first = await flow.tokens(owner["client_id"])
    await flow.refresh(owner["client_id"], first["refresh_token"])
    assert_invalid_grant(await flow.refresh(thief["client_id"], first["refresh_token"]))


async def test_two_concurrent_refreshes_with_one_token_both_succeed(flow: OAuthFlow) -> None:
    """Our choice: two requests racing with one refresh token is a client, not a thief."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    responses: list[httpx2.Response] = []

    async def refresh() -> None:
        responses.append(await flow.refresh(client["client_id"], first["refresh_token"]))

    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(refresh)
    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    assert len({response.json()["refresh_token"] for response in responses}) == 2


async def test_a_spent_token_buys_at_most_one_extra_pair_within_the_grace_window(flow: OAuthFlow) -> None:
    """Issue #15 finding 1: before, five presentations in a row all got a pair; the third is now theft."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    pairs = [(await flow.refresh(client["client_id"], first["refresh_token"])).json() for _ in range(2)]
    assert_invalid_grant(await flow.refresh(client["client_id"], first["refresh_token"]))
    for pair in pairs:
        assert_invalid_grant(await flow.refresh(client["client_id"], pair["refresh_token"]))
        assert (await flow.introspect(client["client_id"], pair["access_token"]))["active"] is False


async def test_three_concurrent_refreshes_with_one_token_revoke_the_family(flow: OAuthFlow) -> None:
    """Issue #15 finding 1: a spent token presented a second time inside the window is theft, even racing."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    responses: list[httpx2.Response] = []

    async def refresh() -> None:
        responses.append(await flow.refresh(client["client_id"], first["refresh_token"]))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(refresh)
    assert sorted(response.status_code for response in responses) == [200, 200, 400]
    for response in responses:
        if response.status_code == 200:
            assert_invalid_grant(await flow.refresh(client["client_id"], response.json()["refresh_token"]))


async def test_using_the_kept_sibling_revokes_the_access_token_of_the_dropped_one(
    flow: OAuthFlow, runtime: Runtime
) -> None:
    """Issue #15 finding 1: before, the dropped sibling's access token stayed valid for its whole lifetime."""
    client = await flow.register()
    first = await flow.tokens(client["client_id"])
    kept = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
    dropped = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
    assert (await flow.introspect(client["client_id"], dropped["access_token"]))["active"] is True
    assert (await flow.refresh(client["client_id"], kept["refresh_token"])).status_code == 200
    assert (await flow.introspect(client["client_id"], dropped["access_token"]))["active"] is False
    keys, now = runtime.signing_keys.verification_keys, runtime.clock.now().timestamp()
    with pytest.raises(AccessTokenError):  # what the gateway's bearer check consults
        verify_access_token(
            dropped["access_token"],
            verification_keys=keys,
            issuer=ISSUER,
            audience=GITHUB,
            now=now,
            revoked=runtime.revoked_tokens,
        )
    assert (await flow.introspect(client["client_id"], kept["access_token"]))["active"] is True


async def test_a_grace_window_of_zero_treats_every_reuse_as_theft(
    make_runtime: RuntimeFactory, browser: Browser
) -> None:
    runtime = make_runtime(oauth={"refresh_token_reuse_grace": 0})
    app = create_app(runtime=runtime)
    app.dependency_overrides[current_user] = lambda: browser.user
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ISSUER) as http:
        flow = OAuthFlow(http)
        client = await flow.register()
        first = await flow.tokens(client["client_id"])
        second = (await flow.refresh(client["client_id"], first["refresh_token"])).json()
        assert_invalid_grant(await flow.refresh(client["client_id"], first["refresh_token"]))
        assert_invalid_grant(await flow.refresh(client["client_id"], second["refresh_token"]))


async def test_a_replay_does_not_touch_other_grants_of_the_same_client(flow: OAuthFlow, clock: FakeClock) -> None:
    client = await flow.register()
    victim = await flow.tokens(client["client_id"])
    other = await flow.tokens(client["client_id"])
    await flow.refresh(client["client_id"], victim["refresh_token"])
    clock.advance(GRACE + 1)
    await flow.refresh(client["client_id"], victim["refresh_token"])
    assert (await flow.refresh(client["client_id"], other["refresh_token"])).status_code == 200


async def test_refresh_is_refused_when_the_user_may_no_longer_sign_in(flow: OAuthFlow, browser: Browser) -> None:
    """Our choice (issue rule): the user's access is re-checked at each refresh."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    browser.may_continue = False
    assert_invalid_grant(await flow.refresh(client["client_id"], tokens["refresh_token"]))
    browser.may_continue = True
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


async def test_an_expired_refresh_token_is_invalid_grant(flow: OAuthFlow, clock: FakeClock) -> None:
    """Our choice: 30 days by default."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    clock.advance(30 * 86400 + 1)
    assert_invalid_grant(await flow.refresh(client["client_id"], tokens["refresh_token"]))


async def test_an_unknown_refresh_token_is_invalid_grant(flow: OAuthFlow) -> None:
    client = await flow.register()
    assert_invalid_grant(await flow.refresh(client["client_id"], "not-a-token"))


async def test_another_clients_refresh_token_is_invalid_grant_and_stays_valid(flow: OAuthFlow) -> None:
    owner, thief = await flow.register(), await flow.register()
    tokens = await flow.tokens(owner["client_id"])
    assert_invalid_grant(await flow.refresh(thief["client_id"], tokens["refresh_token"]))
    assert (await flow.refresh(owner["client_id"], tokens["refresh_token"])).status_code == 200


async def test_refresh_with_another_resource_is_invalid_target(flow: OAuthFlow) -> None:
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    response = await flow.refresh(client["client_id"], tokens["refresh_token"], resource=JIRA)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_target")


async def test_refresh_with_an_odd_scope_keeps_the_granted_scope(flow: OAuthFlow) -> None:
    """Our choice: lenient scopes, never invalid_scope, never wider than the grant."""
    client = await flow.register()
    tokens = await flow.tokens(client["client_id"])
    response = await flow.refresh(client["client_id"], tokens["refresh_token"], scope="claudeai offline_access")
    assert (response.status_code, response.json()["scope"]) == (200, "mcp")


async def test_confidential_clients_must_authenticate_to_refresh(flow: OAuthFlow) -> None:
    client = await flow.register(token_endpoint_auth_method="client_secret_post")
    tokens = await flow.tokens(client["client_id"], client_secret=client["client_secret"])
    unauthenticated = await flow.refresh(client["client_id"], tokens["refresh_token"])
    assert (unauthenticated.status_code, unauthenticated.json()["error"]) == (401, "invalid_client")
    ok = await flow.refresh(client["client_id"], tokens["refresh_token"], client_secret=client["client_secret"])
    assert ok.status_code == 200
