"""Sign in with Google against a local stand-in (discovery, authorization, token, JWKS): ``type: google``.

The stand-in signs real RS256 ID tokens with a joserfc key on Portico's clock and publishes the key as
Google does (an X.509 certificate at ``certs_url``); Portico verifies them with google-auth, runs
in-process and reaches the stand-in over a real socket. google-auth reads the system clock, so
Portico's clock starts at the wall clock here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from app.clock import epoch_seconds
from app.runtime import Runtime, build_runtime
from oauth.login.api import user_may_continue
from tests.conftest import ConfigFactory
from tests.integration.oauth.login.conftest import PorticoFactory
from tests.integration.oauth.login.standins.driver import at_idp, idp_redirect, sign_in, users
from tests.integration.oauth.login.standins.google import CLIENT_ID, CLIENT_SECRET, GoogleStandIn, new_signing_key
from tests.support.asgi_server import serve_asgi
from tests.support.clock import FakeClock
from tests.support.oauth import query_of
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio
WALL_CLOCK_AT_IMPORT = int(datetime.now(UTC).timestamp())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def google(clock: FakeClock) -> Iterator[GoogleStandIn]:
    standin = GoogleStandIn(clock=lambda: epoch_seconds(clock.now()))
    with serve_asgi(standin.app()) as base_url:
        standin.oauth.base_url = base_url
        yield standin


def google_login(issuer: str, rules: dict[str, Any] | None = None, **provider: Any) -> dict[str, Any]:
    entry = {
        "type": "google",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "issuer": issuer,
        "certs_url": f"{issuer}/oauth2/v1/certs",
        **provider,
    }
    return {"providers": [entry], **(rules or {"allowed_domains": ["example.com"]})}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock, google: GoogleStandIn) -> Iterator[Runtime]:
    built = build_runtime(make_config(login=google_login(google.base_url)), clock=clock, env={})
    yield built
    built.close()


async def google_sign_in(http: httpx2.AsyncClient, account: str) -> httpx2.Response:
    return await sign_in(http, "google", "login_hint", account)


def assert_failure(response: httpx2.Response, status: int, *texts: str) -> None:
    assert response.status_code == status, response.text
    for text in texts:
        assert text in response.text, response.text
    assert "portico_login=" not in response.headers.get("set-cookie", "")
    assert "Traceback" not in response.text


async def test_a_workspace_account_in_an_allowed_domain_is_signed_in(
    http: httpx2.AsyncClient, runtime: Runtime
) -> None:
    response = await google_sign_in(http, "alice")
    assert (response.status_code, response.headers["location"]) == (303, "/whoami")
    assert (await http.get("/whoami")).json()["email"] == "alice@example.com"
    [user] = users(runtime)
    assert (user.provider, user.provider_subject, user.domain, user.email_verified) == (
        "google",
        "110001",
        "example.com",
        True,
    )


async def test_the_authorization_request_has_state_s256_challenge_and_nonce_but_never_the_verifier(
    http: httpx2.AsyncClient, google: GoogleStandIn
) -> None:
    """Spec-mandated: RFC 7636 §4.3 (challenge, not verifier), OIDC Core §3.1.2.1 (nonce), RFC 6749 §10.12."""
    await google_sign_in(http, "alice")
    [request] = google.oauth.authorization_requests
    assert request["response_type"] == "code"
    assert request["redirect_uri"] == "http://127.0.0.1:8080/login/callback/google"
    assert request["scope"] == "openid email profile"
    assert request["code_challenge_method"] == "S256" and len(request["code_challenge"]) == 43
    assert len(request["state"]) >= 43 and len(request["nonce"]) >= 43
    assert "code_verifier" not in request and "hd" not in request
    [token_request] = google.oauth.token_requests
    assert len(token_request["code_verifier"]) >= 43 and "client_secret" not in token_request


async def test_a_consumer_account_is_not_admitted_by_its_email_domain_text(
    http: httpx2.AsyncClient, runtime: Runtime
) -> None:
    """Own rule: for Google the domain is the hd claim; outsider@example.com without hd is refused."""
    response = await google_sign_in(http, "outsider")
    assert_failure(response, 403, "Access denied", "login.allowed_domains", "no organisation domain")
    assert users(runtime) == []


async def test_a_consumer_account_may_be_admitted_by_allowed_emails_and_is_rechecked_by_its_hd(
    portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    runtime, http = await portico_with(google_login(google.base_url, {"allowed_emails": ["bob@gmail.com"]}))
    response = await google_sign_in(http, "gmail")
    assert response.status_code == 303
    [user] = users(runtime)
    assert user.domain == ""
    assert await user_may_continue(runtime, user.subject)
    login = runtime.config.login.model_copy(update={"allowed_emails": [], "allowed_domains": ["gmail.com"]})
    runtime.config = runtime.config.model_copy(update={"login": login})
    assert not await user_may_continue(runtime, user.subject)


async def test_an_unverified_email_is_refused_unless_the_provider_allows_it_explicitly(
    http: httpx2.AsyncClient, portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    assert_failure(await google_sign_in(http, "unverified"), 403, "has not verified this email")
    _, insecure = await portico_with(google_login(google.base_url, insecure_allow_unverified_email=True))
    assert (await google_sign_in(insecure, "unverified")).status_code == 303


async def test_hosted_domain_is_sent_as_hd_and_enforced_on_the_token(
    portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    _, http = await portico_with(google_login(google.base_url, {"allow_any_user": True}, hosted_domain="Example.com"))
    assert (await google_sign_in(http, "alice")).status_code == 303
    assert google.oauth.authorization_requests[0]["hd"] == "example.com"
    response = await google_sign_in(http, "other")
    assert_failure(response, 403, "not in the Workspace domain example.com", "hosted_domain")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "someone-else.apps.googleusercontent.com"}, "is not for this client (aud)"),
        ({"aud": [CLIENT_ID, "other"], "azp": None}, "is not for this client (aud)"),  # google-auth: one aud
        ({"azp": "other"}, "issued to another party (azp)"),
        ({"iss": "https://accounts.evil.example"}, "issued by another issuer"),
        ({"exp": WALL_CLOCK_AT_IMPORT - 120}, "has expired"),
        ({"iat": WALL_CLOCK_AT_IMPORT + 3600}, "issued in the future"),
        ({"nonce": "another-nonce"}, "nonce does not match"),
        ({"sub": None}, "no usable subject"),
    ],
)
async def test_an_id_token_failing_a_check_is_refused(
    http: httpx2.AsyncClient, google: GoogleStandIn, runtime: Runtime, claims: dict[str, Any], reason: str
) -> None:
    """Spec-mandated: OpenID Connect Core §3.1.3.7."""
    google.id_token_claims = claims
    assert_failure(await google_sign_in(http, "alice"), 400, "failed verification", reason)
    assert users(runtime) == []


async def test_an_id_token_with_a_forged_signature_is_refused(
    http: httpx2.AsyncClient, google: GoogleStandIn, runtime: Runtime
) -> None:
    google.signing_key = new_signing_key(google.signing_key.kid or "google-1")
    assert_failure(await google_sign_in(http, "alice"), 400, "signature does not verify")
    assert users(runtime) == []


async def test_certificates_are_cached_for_their_max_age_refetched_once_for_a_new_key_and_unknown_keys_refused(
    http: httpx2.AsyncClient, google: GoogleStandIn
) -> None:
    """google-auth reads the certificates through Portico's httpx2 transport, which honours max-age."""
    assert (await google_sign_in(http, "alice")).status_code == 303
    assert (await google_sign_in(http, "alice")).status_code == 303
    assert (google.certs_fetches, google.jwks_fetches) == (1, 0)  # cached; the JWKS is never read
    google.signing_key = new_signing_key("google-2")
    google.published_keys = [google.signing_key]
    assert (await google_sign_in(http, "alice")).status_code == 303
    assert google.certs_fetches == 2
    google.signing_key = new_signing_key("google-3")
    assert_failure(await google_sign_in(http, "alice"), 400, "a key the identity provider does not publish")
    assert google.certs_fetches == 3


async def test_a_wrong_hd_and_an_unverified_email_are_refused_after_google_auth_verified_the_token(
    portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    """Own rule on top of google-auth's verification: hd must be the configured Workspace domain,
    email_verified must be true (OpenID Connect Core §5.1)."""
    runtime, http = await portico_with(google_login(google.base_url, hosted_domain="example.com"))
    google.id_token_claims = {"hd": "evil.example"}
    assert_failure(await google_sign_in(http, "alice"), 403, "not in the Workspace domain example.com")
    google.id_token_claims = {"email_verified": False}
    assert_failure(await google_sign_in(http, "alice"), 403, "has not verified this email")
    assert users(runtime) == []
    assert google.certs_fetches == 1


async def test_an_error_from_the_token_endpoint_is_shown_with_its_code(
    http: httpx2.AsyncClient, google: GoogleStandIn
) -> None:
    google.oauth.token_error = "invalid_grant"
    assert_failure(await google_sign_in(http, "alice"), 502, "Google refused to complete the sign-in", "invalid_grant")


async def test_an_idp_error_redirect_is_shown_escaped(http: httpx2.AsyncClient) -> None:
    """Own behaviour on RFC 6749 §4.1.2.1: the code and description are shown, autoescaped."""
    response = await google_sign_in(http, "deny")
    assert_failure(response, 400, "Google returned the error access_denied: The user said &lt;no&gt;")
    assert "<no>" not in response.text


async def test_an_unreachable_idp_gives_an_error_page(portico_with: PorticoFactory) -> None:
    _, http = await portico_with(google_login(f"http://127.0.0.1:{free_port()}"))
    response = await http.get("/login/google", params={"return_to": "/whoami"})
    assert_failure(
        response, 502, "Could not complete the sign-in with Google", "could not fetch the discovery document"
    )
    assert 'href="/login?return_to=%2Fwhoami"' in response.text


async def test_a_discovery_document_for_another_issuer_is_refused(
    portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    """Spec-mandated: OpenID Connect Discovery §4.3."""
    _, http = await portico_with(
        google_login(google.base_url + "/", discovery_url=google.base_url + "/.well-known/openid-configuration")
    )
    response = await http.get("/login/google")
    assert_failure(response, 502, "for another issuer")


async def test_a_tampered_or_replayed_state_is_refused_and_the_genuine_one_still_works(
    http: httpx2.AsyncClient,
) -> None:
    """Spec-mandated: RFC 6749 §10.12; single use is our own choice."""
    callback = await at_idp(await idp_redirect(http, "google"), "login_hint", "alice")
    params = query_of(callback)
    tampered = await http.get("/login/callback/google", params={**params, "state": params["state"][:-2] + "xx"})
    assert_failure(tampered, 400, "Sign-in expired", "not started in this browser")
    flow_cookies = {name: value for name, value in http.cookies.items() if name.startswith("portico_idp_")}
    assert (await http.get(callback)).status_code == 303
    http.cookies.clear()
    for name, value in flow_cookies.items():
        http.cookies.set(name, value)
    replayed = await http.get(callback)
    assert_failure(replayed, 400, "Sign-in expired", "already completed")


async def test_the_flow_cookie_is_host_prefixed_secure_and_short_lived_over_https(
    portico_with: PorticoFactory, google: GoogleStandIn
) -> None:
    _, http = await portico_with(google_login(google.base_url), public_url="https://gw.example.com")
    start = await http.get("/login/google")
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("__Host-portico_idp_")
    assert {"HttpOnly", "Max-Age=600", "Path=/", "SameSite=Lax", "Secure"} <= set(cookie.split("; "))
    assert query_of(start.headers["location"])["redirect_uri"] == "https://gw.example.com/login/callback/google"
