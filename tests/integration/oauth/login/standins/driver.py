"""Driving a sign-in through a stand-in as a browser would: Portico (in-process) → stand-in → callback."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx2
from sqlalchemy import select

from app.db import transaction
from app.runtime import Runtime
from oauth.login.store.users import UserRow


async def idp_redirect(http: httpx2.AsyncClient, provider: str, return_to: str = "/whoami") -> str:
    """``GET /login/<provider>``: the authorization URL Portico sends the browser to."""
    start = await http.get(f"/login/{provider}", params={"return_to": return_to})
    assert start.status_code == 303, start.text
    return start.headers["location"]


async def at_idp(authorization_url: str, account_param: str, account: str) -> str:
    """The stand-in's redirect back to Portico (the callback URL with code and state, or an error)."""
    async with httpx2.AsyncClient() as browser:
        answer = await browser.get(f"{authorization_url}&{urlencode({account_param: account})}")
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def sign_in(
    http: httpx2.AsyncClient, provider: str, account_param: str, account: str, return_to: str = "/whoami"
) -> httpx2.Response:
    """The whole round trip; returns Portico's answer to the callback."""
    callback = await at_idp(await idp_redirect(http, provider, return_to), account_param, account)
    return await http.get(callback)


def users(runtime: Runtime) -> list[UserRow]:
    with transaction(runtime.db) as db:
        rows = list(db.scalars(select(UserRow).order_by(UserRow.id)).all())
        db.expunge_all()
        return rows
