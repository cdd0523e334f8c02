"""Sign in with GitHub against a local stand-in (OAuth app endpoints, ``/user``, ``/user/emails``, ``/user/orgs``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from app.clock import epoch_seconds
from app.runtime import Runtime, build_runtime
from oauth.login.api import user_may_continue
from tests.conftest import ConfigFactory
from tests.integration.oauth.login.conftest import PorticoFactory
from tests.integration.oauth.login.standins.driver import sign_in, users
from tests.integration.oauth.login.standins.github import CLIENT_ID, CLIENT_SECRET, GithubStandIn
from tests.support.asgi_server import serve_asgi
from tests.support.clock import FakeClock
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def github(clock: FakeClock) -> Iterator[GithubStandIn]:
    standin = GithubStandIn(clock=lambda: epoch_seconds(clock.now()))
    with serve_asgi(standin.app()) as base_url:
        standin.oauth.base_url = base_url
        yield standin


def github_login(base_url: str, rules: dict[str, Any] | None = None) -> dict[str, Any]:
    provider = {
        "type": "github",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": f"{base_url}/login/oauth/authorize",
        "token_url": f"{base_url}/login/oauth/access_token",
        "api_base_url": f"{base_url}/api/",
    }
    return {"providers": [provider], **(rules or {"allowed_domains": ["example.com"]})}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock, github: GithubStandIn) -> Iterator[Runtime]:
    built = build_runtime(make_config(login=github_login(github.base_url)), clock=clock, env={})
    yield built
    built.close()


async def github_sign_in(http: httpx2.AsyncClient, login: str) -> httpx2.Response:
    return await sign_in(http, "github", "login", login)


def assert_failure(response: httpx2.Response, status: int, *texts: str) -> None:
    assert response.status_code == status, response.text
    for text in texts:
        assert text in response.text, response.text
    assert "portico_login=" not in response.headers.get("set-cookie", "")


async def test_a_user_signs_in_with_the_primary_verified_email_and_the_numeric_id(
    http: httpx2.AsyncClient, runtime: Runtime, github: GithubStandIn
) -> None:
    response = await github_sign_in(http, "octocat")
    assert (response.status_code, response.headers["location"]) == (303, "/whoami")
    [user] = users(runtime)
    assert (user.provider, user.provider_subject, user.email, user.email_verified, user.name) == (
        "github",
        "583231",
        "octo@example.com",
        True,
        "The Octocat",
    )
    assert user.orgs == ["github", "Portico-Dev"]


async def test_the_code_exchange_uses_pkce_and_the_api_the_access_token_as_bearer(
    http: httpx2.AsyncClient, github: GithubStandIn
) -> None:
    """Spec-mandated: RFC 7636 §4.5 (verifier), RFC 6750 §2.1 (Authorization: Bearer)."""
    await github_sign_in(http, "octocat")
    [request] = github.oauth.authorization_requests
    assert request["scope"] == "read:user user:email read:org"
    assert request["code_challenge_method"] == "S256" and "nonce" not in request and "code_verifier" not in request
    [token_request] = github.oauth.token_requests
    assert token_request["client_secret"] == CLIENT_SECRET and len(token_request["code_verifier"]) >= 43
    assert {scheme for _, scheme in github.api_requests} == {"Bearer"}
    assert [path for path, _ in github.api_requests] == ["/api/user", "/api/user/emails", "/api/user/orgs"]


async def test_an_unverified_primary_email_is_refused_even_with_another_verified_address(
    http: httpx2.AsyncClient, runtime: Runtime
) -> None:
    """Issue rule: the email is the primary address, and it must be verified itself."""
    response = await github_sign_in(http, "unverified")
    assert_failure(response, 403, "new@example.com: the identity provider has not verified this email")
    assert users(runtime) == []


async def test_allowed_orgs_admits_a_member_of_an_org_listed_on_a_later_page_case_insensitively(
    portico_with: PorticoFactory, github: GithubStandIn
) -> None:
    github.users["joiner"]["orgs"] = ["alpha", "beta", "gamma", "delta", "Portico-Dev"]
    runtime, http = await portico_with(github_login(github.base_url, {"allowed_orgs": ["portico-dev"]}))
    assert (await github_sign_in(http, "joiner")).status_code == 303
    assert [path for path, _ in github.api_requests].count("/api/user/orgs") == 3
    [user] = users(runtime)
    assert user.orgs == ["alpha", "beta", "gamma", "delta", "Portico-Dev"]


async def test_a_user_in_no_allowed_org_is_refused_naming_allowed_orgs(
    portico_with: PorticoFactory, github: GithubStandIn
) -> None:
    _, http = await portico_with(github_login(github.base_url, {"allowed_orgs": ["portico-dev"]}))
    response = await github_sign_in(http, "joiner")
    assert_failure(response, 403, "no organisation of this user is in login.allowed_orgs")


async def test_org_membership_is_rechecked_from_the_record_of_the_last_sign_in(
    portico_with: PorticoFactory, github: GithubStandIn
) -> None:
    runtime, http = await portico_with(github_login(github.base_url, {"allowed_orgs": ["github"]}))
    await github_sign_in(http, "octocat")
    subject = users(runtime)[0].subject
    assert await user_may_continue(runtime, subject)
    login = runtime.config.login.model_copy(update={"allowed_orgs": ["another-org"]})
    runtime.config = runtime.config.model_copy(update={"login": login})
    assert not await user_may_continue(runtime, subject)


async def test_a_pagination_link_to_another_origin_is_not_followed(
    http: httpx2.AsyncClient, github: GithubStandIn, runtime: Runtime
) -> None:
    """Own rule: the access token is only ever sent to the API's origin."""
    github.per_page_limit = 1
    github.link_origin = f"http://127.0.0.1:{free_port()}"
    response = await github_sign_in(http, "octocat")
    assert_failure(response, 502, "pagination link points away from the API origin")
    assert users(runtime) == []


async def test_a_code_github_refuses_shows_githubs_error(http: httpx2.AsyncClient, github: GithubStandIn) -> None:
    github.oauth.token_error = "bad_verification_code"
    response = await github_sign_in(http, "octocat")
    assert_failure(response, 502, "GitHub refused to complete the sign-in (error bad_verification_code)")


async def test_an_unreachable_api_gives_an_error_page(portico_with: PorticoFactory, github: GithubStandIn) -> None:
    login = github_login(github.base_url)
    login["providers"][0]["api_base_url"] = f"http://127.0.0.1:{free_port()}"
    _, http = await portico_with(login)
    assert_failure(await github_sign_in(http, "octocat"), 502, "an API call failed (ConnectError)")
