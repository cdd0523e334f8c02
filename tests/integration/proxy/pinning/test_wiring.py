"""How Portico builds its pinning gate: one for the pinned servers, none for ``pinning: off``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app
from app.runtime import Runtime, build_runtime
from proxy.gateway import Gateway
from proxy.pinning import PinningGate
from proxy.policy.guard import PolicyGuard
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

HTTP = {"transport": "streamable-http", "url": "https://upstream.example/mcp"}


@pytest.fixture
def runtimes() -> Iterator[list[Runtime]]:
    built: list[Runtime] = []
    yield built
    for runtime in built:
        runtime.close()


def serve(make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime], servers: dict[str, Any]) -> Gateway:
    runtime = build_runtime(make_config(servers=servers), clock=clock, env={})
    runtimes.append(runtime)
    gateway: Gateway = create_app(runtime=runtime).state.gateway
    return gateway


def test_pinned_servers_are_guarded_and_a_server_with_pinning_off_is_not(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    servers = {"warned": HTTP, "enforced": {**HTTP, "pinning": "enforce"}, "unpinned": {**HTTP, "pinning": "off"}}
    gateway = serve(make_config, clock, runtimes, servers)
    assert isinstance(gateway.tool_gate, PinningGate)
    assert gateway.tool_gate.servers == {"warned", "enforced"}
    assert isinstance(gateway.backends["warned"], PolicyGuard)
    assert isinstance(gateway.backends["enforced"], PolicyGuard)
    assert not isinstance(gateway.backends["unpinned"], PolicyGuard)  # open policy, no gate: nothing installed


def test_pinning_off_everywhere_builds_no_gate(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    gateway = serve(make_config, clock, runtimes, {"a": {**HTTP, "pinning": "off"}})
    assert gateway.tool_gate is None
    assert not isinstance(gateway.backends["a"], PolicyGuard)
