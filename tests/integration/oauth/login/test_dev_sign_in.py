"""Signing in with the ``dev`` provider: the form, CSRF, the access rules and ``return_to``."""

from __future__ import annotations

import re

import httpx2
import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.runtime import Runtime
from oauth.login.store.login_sessions import LoginSessionRow
from oauth.login.store.users import UserRow
from tests.integration.oauth.login.conftest import SignIn, csrf_token

pytestmark = pytest.mark.anyio


def count(runtime: Runtime, model: type[UserRow] | type[LoginSessionRow]) -> int:
    with transaction(runtime.db) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_form_has_one_email_input_and_one_submit_button(http: httpx2.AsyncClient) -> None:
    page = await http.get("/login/dev", params={"return_to": "/whoami"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert len(re.findall(r"<input[^>]*name=\"email\"", page.text)) == 1
    assert re.search(r'<input id="email" name="email" type="email"', page.text)
    assert '<label for="email">' in page.text
    assert page.text.count("<button") == 1 and 'type="submit"' in page.text
    assert "portico_login_nonce=" in page.headers["set-cookie"]


async def test_admitted_user_lands_on_return_to_signed_in(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    response = await sign_in("Alice@Example.com", return_to="/whoami?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/whoami?x=1"
    assert "portico_login=" in response.headers["set-cookie"]
    whoami = await http.get("/whoami")
    assert whoami.status_code == 200
    assert whoami.json()["email"] == "alice@example.com"
    with transaction(runtime.db) as db:
        [user] = db.scalars(select(UserRow)).all()
    assert (user.provider, user.provider_subject, user.email_verified, user.groups) == (
        "dev",
        "alice@example.com",
        True,
        [],
    )
    assert whoami.json()["subject"] == user.subject


async def test_signing_in_again_keeps_the_user_and_replaces_the_session(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    await sign_in("alice@example.com")
    first = (await http.get("/whoami")).json()
    runtime.clock.advance(30)  # type: ignore[attr-defined]
    await sign_in("ALICE@example.com")
    second = (await http.get("/whoami")).json()
    assert first["subject"] == second["subject"]
    assert first["login_session_id"] != second["login_session_id"]
    assert (count(runtime, UserRow), count(runtime, LoginSessionRow)) == (1, 1)


async def test_denied_domain_gets_403_naming_the_rule_and_leaves_no_trace(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    response = await sign_in("mallory@other.com")
    assert response.status_code == 403
    assert "mallory@other.com: domain other.com is not in login.allowed_domains" in response.text
    assert "portico_login=" not in response.headers.get("set-cookie", "").replace("portico_login_nonce", "")
    assert (count(runtime, UserRow), count(runtime, LoginSessionRow)) == (0, 0)
    assert (await http.get("/whoami")).status_code == 401


async def test_a_bad_csrf_token_is_refused(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    await http.get("/login/dev")
    for token in ("", "1767225600.deadbeef", "garbage"):
        response = await http.post("/login/dev", data={"email": "alice@example.com", "csrf_token": token})
        assert response.status_code == 403, token
    assert count(runtime, UserRow) == 0
    assert (await http.get("/whoami")).status_code == 401


async def test_a_csrf_token_without_its_nonce_cookie_is_refused(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    """Login CSRF: a token lifted from another browser's form is useless without that browser's nonce."""
    token = csrf_token(await http.get("/login/dev"))
    http.cookies.clear()
    response = await http.post("/login/dev", data={"email": "alice@example.com", "csrf_token": token})
    assert response.status_code == 403
    assert count(runtime, UserRow) == 0


async def test_an_expired_form_is_refused(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    token = csrf_token(await http.get("/login/dev"))
    runtime.clock.advance(601)  # type: ignore[attr-defined]
    response = await http.post("/login/dev", data={"email": "alice@example.com", "csrf_token": token})
    assert response.status_code == 403


async def test_a_malformed_email_shows_the_form_again_with_an_error(http: httpx2.AsyncClient) -> None:
    page = await http.get("/login/dev")
    for email in ("", "alice", "alice@", "@example.com", "a b@example.com", "alice@example", "a@b@example.com"):
        page = await http.post("/login/dev", data={"email": email, "csrf_token": csrf_token(page), "return_to": "/x"})
        assert page.status_code == 400, email
        assert 'role="alert"' in page.text and 'aria-invalid="true"' in page.text
    retry = await http.post(
        "/login/dev", data={"email": "alice@example.com", "csrf_token": csrf_token(page), "return_to": "/x"}
    )
    assert (retry.status_code, retry.headers["location"]) == (303, "/x")


async def test_an_open_redirect_in_return_to_lands_on_the_root(sign_in: SignIn) -> None:
    for return_to in ("//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "/\t/evil.com", "evil.com"):
        response = await sign_in("alice@example.com", return_to=return_to)
        assert (response.status_code, response.headers["location"]) == (303, "/"), return_to


async def test_return_to_in_the_form_is_checked_again_at_submission(http: httpx2.AsyncClient) -> None:
    token = csrf_token(await http.get("/login/dev"))
    data = {"email": "alice@example.com", "csrf_token": token, "return_to": "//evil.com/x"}
    response = await http.post("/login/dev", data=data)
    assert response.headers["location"] == "/"


async def test_a_disabled_user_cannot_sign_in(http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime) -> None:
    await sign_in("alice@example.com")
    http.cookies.clear()
    with transaction(runtime.db) as db:
        db.scalars(select(UserRow)).one().disabled = True
    response = await sign_in("alice@example.com")
    assert response.status_code == 403
    assert "this account is disabled" in response.text
    assert (await http.get("/whoami")).status_code == 401
