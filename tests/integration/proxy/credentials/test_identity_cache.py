"""The signed identity is minted cold and reused warm: per (user, client, server, signing key), until
a fifth of its lifetime remains (docs/credentials.md §identity, ADR 0020).

Real databases (SQLite and PostgreSQL), the real signing keys and their rotation; every assertion is
checked with the example verifier an upstream copies (examples/verify_identity.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import anyio
import pytest
from joserfc import jwt

from app.db import create_db_engine, session_factory, transaction
from app.db_outage import DatabaseUnavailableError
from app.runtime import Runtime, build_runtime
from examples.verify_identity import Identity, verify_identity
from oauth.housekeeping import reload_signing_keys
from oauth.tokens.access_tokens import AccessTokenClaims
from oauth.tokens.signing_keys import rotate_signing_key
from proxy.credentials.identity import UpstreamIdentities
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.support.users import add_user

pytestmark = pytest.mark.anyio
URL = "https://tools.internal.example.com/mcp"
WIKI = "https://wiki.internal.example.com/mcp"
SERVERS = {
    "tools": {"transport": "streamable-http", "url": URL, "identity": {"lifetime": 300}},
    "wiki": {
        "transport": "auto",
        "url": "https://wiki.internal.example.com/mcp",
        "identity": {"header": "Authorization"},
    },
    "plain": {"transport": "streamable-http", "url": "https://plain.example.com/mcp"},
}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(servers=SERVERS), clock=clock, env={})
    yield built
    built.close()


def claims(subject: str, client_id: str = "client-a", email: str | None = "token@example.com") -> AccessTokenClaims:
    return AccessTokenClaims("iss", subject, "aud", client_id, frozenset({"mcp"}), 2_000_000_000, 0, "jti", email)


async def assertion(identities: UpstreamIdentities, who: AccessTokenClaims, server: str = "tools") -> str:
    return (await identities.headers(server, who))["X-Portico-Identity"]


def verified(runtime: Runtime, token: str, audience: str = URL) -> Identity:
    keys = runtime.signing_keys.verification_keys
    now = runtime.clock.now().timestamp()
    return verify_identity(token, keys, issuer=runtime.config.public_url, audience=audience, now=now)


async def test_groups_and_email_come_from_the_stored_account(runtime: Runtime) -> None:
    subject = await add_user(runtime, "ada@example.com", ["engineering", "oncall"])
    identity = verified(runtime, await assertion(UpstreamIdentities(runtime), claims(subject)))
    assert (identity.subject, identity.email, identity.client_id) == (subject, "ada@example.com", "client-a")
    assert identity.groups == ("engineering", "oncall")
    assert identity.actor is None  # no service clients yet: act is never set


async def test_a_subject_without_an_account_is_named_with_the_token_email_and_no_groups(runtime: Runtime) -> None:
    identity = verified(runtime, await assertion(UpstreamIdentities(runtime), claims("ghost")))
    assert (identity.subject, identity.email, identity.groups) == ("ghost", "token@example.com", ())


async def test_one_assertion_is_reused_until_a_fifth_of_its_lifetime_remains(
    runtime: Runtime, clock: FakeClock
) -> None:
    identities = UpstreamIdentities(runtime)
    first = await assertion(identities, claims("u"))
    clock.advance(239)
    assert await assertion(identities, claims("u")) == first
    clock.advance(1)  # 240 s of 300: less than 20 % left
    renewed = await assertion(identities, claims("u"))
    assert renewed != first
    assert verified(runtime, renewed).expires_at == int(clock.now().timestamp()) + 300
    assert len(identities) == 1


async def test_each_client_and_each_server_gets_its_own_assertion(runtime: Runtime) -> None:
    identities = UpstreamIdentities(runtime)
    mine = await assertion(identities, claims("u", "client-a"))
    other_client = await assertion(identities, claims("u", "client-b"))
    other_user = await assertion(identities, claims("v", "client-a"))
    assert len({mine, other_client, other_user}) == 3
    assert verified(runtime, other_client).client_id == "client-b"
    assert verified(runtime, other_user).subject == "v"
    wiki = (await identities.headers("wiki", claims("u")))["Authorization"]
    assert wiki.startswith("Bearer ")
    assert verified(runtime, wiki.removeprefix("Bearer "), WIKI).subject == "u"
    assert await identities.headers("plain", claims("u")) == {}
    assert not identities.configured("plain") and identities.configured("wiki")


async def test_a_rotated_signing_key_mints_a_new_assertion_with_its_kid(runtime: Runtime, clock: FakeClock) -> None:
    identities = UpstreamIdentities(runtime)
    before = await assertion(identities, claims("u"))
    with transaction(runtime.db) as db:
        kid = rotate_signing_key(db, runtime.sealer, clock.now(), overlap=timedelta(hours=1))
    reload_signing_keys(runtime)
    after = await assertion(identities, claims("u"))
    assert after != before
    assert verified(runtime, after).subject == "u" and verified(runtime, before).subject == "u"
    assert jwt.decode(after, runtime.signing_keys.verification_keys).header["kid"] == kid


async def test_a_warm_lookup_reads_nothing_and_a_cold_one_fails_on_a_database_outage(runtime: Runtime) -> None:
    identities = UpstreamIdentities(runtime)
    warm = await assertion(identities, claims("u"))
    working = runtime.db
    runtime.db = session_factory(create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        assert await assertion(identities, claims("u")) == warm
        with pytest.raises(DatabaseUnavailableError):
            await assertion(identities, claims("u", "client-new"))
        assert len(identities) == 1
    finally:
        runtime.db.kw["bind"].dispose()
        runtime.db = working


async def test_concurrent_first_requests_share_one_assertion(runtime: Runtime) -> None:
    identities = UpstreamIdentities(runtime)
    seen: list[str] = []

    async def one() -> None:
        seen.append(await assertion(identities, claims("u")))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(one)
    assert len(set(seen)) == 1 and len(seen) == 5


async def test_the_cache_is_bounded_and_stale_entries_go_first(runtime: Runtime, clock: FakeClock) -> None:
    identities = UpstreamIdentities(runtime, max_entries=3)
    await assertion(identities, claims("stale"))
    clock.advance(250)
    for subject in ("a", "b"):
        await assertion(identities, claims(subject))
    kept = await assertion(identities, claims("a"))
    await assertion(identities, claims("c"))  # full: the stale entry goes, the fresh ones stay
    assert len(identities) == 3 and await assertion(identities, claims("a")) == kept
    await assertion(identities, claims("d"))  # full of fresh ones: the oldest tenth (one) goes
    assert len(identities) == 3


async def test_a_request_without_a_verified_token_gets_no_identity(runtime: Runtime) -> None:
    with pytest.raises(LookupError, match=r"servers\.tools\.identity"):
        await UpstreamIdentities(runtime).headers("tools", None)
