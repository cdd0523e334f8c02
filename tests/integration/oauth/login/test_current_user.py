"""``current_user``: cookie integrity, idle and absolute timeouts, sliding refresh, disabled and deleted users."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import delete, select

from app.db import transaction
from app.runtime import Runtime
from oauth.login.store.users import UserRow
from tests.integration.oauth.login.conftest import SignIn
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

IDLE, ABSOLUTE = 8 * 3600, 7 * 24 * 3600  # the defaults of login.session_*_seconds


def set_cookies(response: httpx2.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def replace_login_cookie(http: httpx2.AsyncClient, value: str) -> None:
    http.cookies.delete("portico_login")
    http.cookies.set("portico_login", value, domain="127.0.0.1")


async def whoami_status(http: httpx2.AsyncClient) -> int:
    return (await http.get("/whoami")).status_code


async def test_no_cookie_means_no_user(http: httpx2.AsyncClient) -> None:
    assert await whoami_status(http) == 401


async def test_a_tampered_cookie_means_no_user(http: httpx2.AsyncClient, sign_in: SignIn) -> None:
    await sign_in("alice@example.com")
    value = http.cookies["portico_login"]
    for forged in (value[:-2] + "xx", value[:12] + ("A" if value[12] != "A" else "B") + value[13:], "v1.x.y.z"):
        replace_login_cookie(http, forged)
        assert await whoami_status(http) == 401


async def test_the_session_ends_after_the_idle_timeout(
    http: httpx2.AsyncClient, sign_in: SignIn, clock: FakeClock
) -> None:
    await sign_in("alice@example.com")
    before_refresh = http.cookies["portico_login"]
    clock.advance(IDLE - 1)
    assert await whoami_status(http) == 200  # refreshed: this browser keeps going
    replace_login_cookie(http, before_refresh)
    clock.advance(2)
    assert await whoami_status(http) == 401


async def test_activity_slides_the_idle_window_by_reissuing_the_cookie(
    http: httpx2.AsyncClient, sign_in: SignIn, clock: FakeClock
) -> None:
    await sign_in("alice@example.com")
    early = await http.get("/whoami")
    assert not any(c.startswith("portico_login=") for c in set_cookies(early))  # under a minute: no refresh
    clock.advance(IDLE - 60)
    refreshed = await http.get("/whoami")
    [cookie] = [c for c in set_cookies(refreshed) if c.startswith("portico_login=")]
    assert "Max-Age=28800" in cookie and "HttpOnly" in cookie
    clock.advance(IDLE - 60)
    assert await whoami_status(http) == 200


async def test_the_session_ends_at_the_absolute_timeout_despite_activity(
    http: httpx2.AsyncClient, sign_in: SignIn, clock: FakeClock
) -> None:
    await sign_in("alice@example.com")
    for _ in range(ABSOLUTE // (IDLE // 2) - 1):
        clock.advance(IDLE // 2)
        assert await whoami_status(http) == 200
    clock.advance(IDLE // 2)
    assert await whoami_status(http) == 401


async def test_a_disabled_user_is_no_longer_signed_in(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    await sign_in("alice@example.com")
    with transaction(runtime.db) as db:
        db.scalars(select(UserRow)).one().disabled = True
    assert await whoami_status(http) == 401


async def test_a_cookie_for_a_deleted_user_means_no_user(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    await sign_in("alice@example.com")
    with transaction(runtime.db) as db:
        db.execute(delete(UserRow))
    assert await whoami_status(http) == 401


async def test_a_user_no_longer_admitted_by_the_rules_is_no_longer_signed_in(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    await sign_in("alice@example.com")
    runtime.config = runtime.config.model_copy(
        update={"login": runtime.config.login.model_copy(update={"allowed_domains": ["example.org"]})}
    )
    assert await whoami_status(http) == 401
