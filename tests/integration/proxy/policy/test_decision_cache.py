"""Decisions cached per (token, server): the cold path reads the account once, the warm path nothing (issue #16).

Real databases (SQLite and PostgreSQL), the real rule engine (:class:`app.policy.engine.RulePolicy`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import update

from app.config import PorticoConfig
from app.config.database import DatabaseConfig
from app.crypto import generate_secret
from app.db import create_db_engine, run_db, session_factory
from app.db_outage import DatabaseUnavailableError
from app.policy.access import ServerAccess
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from app.runtime import Runtime, build_runtime
from oauth.login.store.users import UserRow
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.policy.decisions import PolicyDecisions
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.support.databases import isolated_postgres_database
from tests.support.tcp_proxy import proxied_database
from tests.support.users import add_user

pytestmark = pytest.mark.anyio
POLICY = {
    "default": "deny",
    "rules": [
        {"groups": ["engineering"], "effect": "allow", "servers": {"gh": {}}},
        {"everyone": True, "effect": "allow", "servers": {"gh": {"tools": ["read_*"]}}},
    ],
}
SERVERS = {"gh": {"transport": "stdio", "command": "gh-mcp"}}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(servers=SERVERS, policy=POLICY), clock=clock, env={})
    yield built
    built.close()


def claims(subject: str, jti: str, expires_at: int = 2_000_000_000) -> AccessTokenClaims:
    return AccessTokenClaims("iss", subject, "aud", "client-1", frozenset({"mcp"}), expires_at, 0, jti)


def decisions_for(runtime: Runtime, max_entries: int = 100) -> PolicyDecisions:
    policy = RulePolicy.from_config(runtime.config)
    return PolicyDecisions(policy, db=runtime.db, now=lambda: 1_000.0, max_entries=max_entries)


async def test_groups_come_from_the_stored_account_and_the_decision_is_kept_for_the_token(runtime: Runtime) -> None:
    """Issue #16: computed once per (token, server); a group change applies to the next token, not this one."""
    engineer = await add_user(runtime, "eng@example.com", ["engineering"])
    decisions = decisions_for(runtime)
    first = await decisions.access(claims(engineer, "t1"), "gh")
    assert first.allows("tool", "delete_repo")
    assert decisions.cached("t1", "gh") is first

    await run_db(runtime.db, lambda db: db.execute(update(UserRow).values(groups=[])))
    assert await decisions.access(claims(engineer, "t1"), "gh") is first  # warm: the account is not read again
    renewed = await decisions.access(claims(engineer, "t2"), "gh")
    assert not renewed.allows("tool", "delete_repo") and renewed.allows("tool", "read_file")


async def test_an_unknown_subject_is_decided_without_groups_and_a_disabled_one_may_use_nothing(
    runtime: Runtime,
) -> None:
    decisions = decisions_for(runtime)
    stranger = await decisions.access(claims("no-such-user", "t1"), "gh")
    assert stranger.usable and stranger.allows("tool", "read_file") and not stranger.allows("tool", "delete_repo")
    engineer = await add_user(runtime, "eng@example.com", ["engineering"])
    await run_db(runtime.db, lambda db: db.execute(update(UserRow).values(disabled=True)))
    disabled = await decisions.access(claims(engineer, "t2"), "gh")
    assert not disabled.usable and not disabled.allows("tool", "read_file")


async def test_the_cache_is_bounded_and_expired_tokens_go_first(runtime: Runtime) -> None:
    decisions = decisions_for(runtime, max_entries=3)
    await decisions.access(claims("a", "old", expires_at=500), "gh")  # expired at now=1000
    await decisions.access(claims("a", "live-1"), "gh")
    await decisions.access(claims("a", "live-2"), "gh")
    await decisions.access(claims("a", "live-3"), "gh")
    assert decisions.cached("old", "gh") is None
    assert all(decisions.cached(jti, "gh") is not None for jti in ("live-1", "live-2", "live-3"))
    await decisions.access(claims("a", "live-4"), "gh")  # all live: the oldest goes
    assert len(decisions) <= 3 and decisions.cached("live-4", "gh") is not None


@pytest.mark.postgres
async def test_a_database_outage_on_the_cold_path_raises_unavailable_and_caches_nothing(
    tmp_path: Path, _postgres_template: str
) -> None:
    """ADR 0006: the cold read is bounded and answered as an outage (503 at the endpoints); warm reads go on."""
    bounds = DatabaseConfig(
        connect_timeout_seconds=1, pool_timeout_seconds=1, call_timeout_seconds=2, statement_timeout_seconds=1
    )
    with (
        isolated_postgres_database(_postgres_template) as url,
        proxied_database(url) as (proxy, proxied),
    ):
        engine = create_db_engine(proxied, bounds)
        try:
            policy = RulePolicy.from_config(_config_with_policy(tmp_path, url))
            decisions = PolicyDecisions(policy, db=session_factory(engine), now=lambda: 1_000.0)
            warm = await decisions.access(claims("someone", "warm"), "gh")
            proxy.refuse()
            with pytest.raises(DatabaseUnavailableError):
                await decisions.access(claims("someone", "cold"), "gh")
            assert decisions.cached("cold", "gh") is None
            assert await decisions.access(claims("someone", "warm"), "gh") is warm
            proxy.restore()
            assert (await decisions.access(claims("someone", "cold"), "gh")).usable
        finally:
            engine.dispose()


def _config_with_policy(tmp_path: Path, url: str) -> PorticoConfig:
    return PorticoConfig.model_validate(
        {
            "public_url": "http://127.0.0.1:8080",
            "database_url": url,
            "secrets": {"secret_key": generate_secret(), "generated_key_file": str(tmp_path / "k")},
            "servers": SERVERS,
            "policy": POLICY,
        }
    )


class CountingPolicy:
    """The real engine, counting the decisions it is asked for (each follows one account read)."""

    def __init__(self, inner: RulePolicy) -> None:
        self.inner = inner
        self.decided = 0

    @property
    def is_open(self) -> bool:
        return self.inner.is_open

    def access(self, principal: Principal, server: str) -> ServerAccess:
        self.decided += 1
        return self.inner.access(principal, server)


async def test_concurrent_first_requests_of_one_token_share_one_decision(runtime: Runtime) -> None:
    """A client opening a session sends several lists at once: one account read, one decision."""
    policy = CountingPolicy(RulePolicy.from_config(runtime.config))
    decisions = PolicyDecisions(policy, db=runtime.db, now=lambda: 1_000.0)
    seen: list[ServerAccess] = []

    async def first_request() -> None:
        seen.append(await decisions.access(claims("someone", "t1"), "gh"))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(first_request)
    assert policy.decided == 1 and len(seen) == 5 and all(access is seen[0] for access in seen)
