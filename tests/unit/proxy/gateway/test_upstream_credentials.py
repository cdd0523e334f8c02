"""The credentials seam: configured values, cached per user and server, registered for redaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import anyio
import pytest

from app.config import PorticoConfig
from app.log import redact
from proxy.credentials.sources import CachedCredentials, StaticCredentials
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


def config() -> PorticoConfig:
    return PorticoConfig.model_validate(
        {
            "public_url": "https://gw.example.com",
            "servers": {
                "web": {
                    "transport": "streamable-http",
                    "url": "https://up.example.com/mcp",
                    "headers": {"X-Key": "hdr-value-123456"},
                },
                "local": {"transport": "stdio", "command": "x", "env": {"TOKEN": "env-value-123456"}},
            },
        }
    )


async def test_configured_headers_and_env_are_resolved_and_redacted_from_logs() -> None:
    credentials = StaticCredentials(config())
    assert await credentials.http_headers("1", "web") == {"X-Key": "hdr-value-123456"}
    assert await credentials.stdio_env("1", "local") == {"TOKEN": "env-value-123456"}
    assert await credentials.stdio_env(None, "web") == {}
    assert "hdr-value-123456" not in redact("sent hdr-value-123456 and env-value-123456")
    assert "env-value-123456" not in redact("env-value-123456")


class Counting:
    def __init__(self, fresh_until: datetime | None = None) -> None:
        self.calls = 0
        self._fresh_until = fresh_until

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return self._fresh_until

    def is_per_user(self, server: str) -> bool:
        return True

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        self.calls += 1
        return {"X-User": subject}

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        self.calls += 1
        return {"USER_TOKEN": str(subject)}

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        self.calls += 1
        return str(subject)

    async def missing(self, subject: str, server: str) -> bool:
        self.calls += 1
        return subject != "1"


async def test_resolutions_are_cached_per_user_and_server_until_forgotten() -> None:
    """Our choice (hot path): no credential lookup on a warm request."""
    source = Counting()
    cached = CachedCredentials(source, ttl=60)
    assert await cached.http_headers("1", "web") == {"X-User": "1"}
    assert await cached.http_headers("1", "web") == {"X-User": "1"}
    assert await cached.http_headers("2", "web") == {"X-User": "2"}
    assert await cached.stdio_env("1", "local") == {"USER_TOKEN": "1"}
    assert source.calls == 3
    cached.forget("1")
    await cached.http_headers("1", "web")
    assert source.calls == 4
    assert cached.is_per_user("web")


async def test_an_entry_is_not_reused_past_the_sources_fresh_until() -> None:
    """Our choice: an OAuth access token is re-resolved (and refreshed) once it enters its refresh margin."""
    clock = FakeClock()
    source = Counting(fresh_until=clock.now() + timedelta(seconds=10))
    cached = CachedCredentials(source, ttl=60, clock=clock)
    await cached.http_headers("1", "web")
    clock.advance(9)
    await cached.http_headers("1", "web")
    assert source.calls == 1
    clock.advance(1)
    await cached.http_headers("1", "web")
    assert source.calls == 2


async def test_cache_entries_expire() -> None:
    source = Counting()
    cached = CachedCredentials(source, ttl=0.0)
    await cached.stdio_env("1", "local")
    await cached.stdio_env("1", "local")
    assert source.calls == 2


async def test_forgetting_one_server_keeps_the_users_other_servers_and_other_users() -> None:
    source = Counting()
    cached = CachedCredentials(source, ttl=60)
    for subject, server in [("1", "a"), ("1", "b"), ("2", "a")]:
        await cached.http_headers(subject, server)
        assert await cached.missing(subject, server) is (subject != "1")
    assert source.calls == 6
    cached.forget("1", "a")
    for subject, server in [("1", "a"), ("1", "b"), ("2", "a")]:
        await cached.http_headers(subject, server)
    assert source.calls == 7


async def test_a_lookup_in_flight_when_the_credential_changes_is_not_cached() -> None:
    """Our choice: a stale answer read before forget() must not outlive it in the cache."""
    release = anyio.Event()
    answers = iter([{"X-User": "old"}, {"X-User": "new"}])

    class Slow(Counting):
        async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
            self.calls += 1
            if self.calls == 1:
                await release.wait()
            return next(answers)

    cached = CachedCredentials(Slow(), ttl=60)
    results: list[Mapping[str, str]] = []

    async def first() -> None:
        results.append(await cached.http_headers("1", "web"))

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await anyio.wait_all_tasks_blocked()
        cached.forget("1", "web")
        release.set()
    assert results == [{"X-User": "old"}]
    assert await cached.http_headers("1", "web") == {"X-User": "new"}
