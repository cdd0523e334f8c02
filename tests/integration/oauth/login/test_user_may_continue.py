"""``user_may_continue``: the re-check the authorization server runs at /authorize and at every refresh."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import delete, select

from app.db import transaction
from app.runtime import Runtime
from oauth.login.api import user_may_continue
from oauth.login.store.users import UserRow
from tests.integration.oauth.login.conftest import SignIn

pytestmark = pytest.mark.anyio


async def signed_in_subject(http: httpx2.AsyncClient, sign_in: SignIn, email: str) -> str:
    await sign_in(email)
    subject: str = (await http.get("/whoami")).json()["subject"]
    return subject


def with_allowed_domains(runtime: Runtime, domains: list[str]) -> None:
    login = runtime.config.login.model_copy(update={"allowed_domains": domains})
    runtime.config = runtime.config.model_copy(update={"login": login})


async def test_an_admitted_user_may_continue(http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime) -> None:
    subject = await signed_in_subject(http, sign_in, "alice@example.com")
    assert await user_may_continue(runtime, subject)


async def test_a_user_removed_from_allowed_domains_may_not_continue(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    subject = await signed_in_subject(http, sign_in, "alice@example.com")
    with_allowed_domains(runtime, ["example.org"])
    assert not await user_may_continue(runtime, subject)
    with_allowed_domains(runtime, ["example.org", "*.corp.net", "example.com"])
    assert await user_may_continue(runtime, subject)


async def test_a_disabled_or_deleted_user_may_not_continue(
    http: httpx2.AsyncClient, sign_in: SignIn, runtime: Runtime
) -> None:
    subject = await signed_in_subject(http, sign_in, "alice@example.com")
    with transaction(runtime.db) as db:
        db.scalars(select(UserRow)).one().disabled = True
    assert not await user_may_continue(runtime, subject)
    with transaction(runtime.db) as db:
        db.execute(delete(UserRow))
    assert not await user_may_continue(runtime, subject)


async def test_a_subject_that_names_no_user_may_not_continue(runtime: Runtime) -> None:
    for subject in ("", "abc", "-1", "1.0", "²", "9" * 40, "999999"):
        assert not await user_may_continue(runtime, subject), subject
