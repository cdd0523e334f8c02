"""Which backends the gateway wraps in the policy guard (ADR 0016): none for an open policy, the
outermost wrapper on every server otherwise, and for a pinning gate alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.runtime import Runtime, build_runtime
from proxy.backends.credential_guard import CredentialGuard
from proxy.gateway import Gateway
from proxy.policy.guard import PolicyGuard
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.unit.proxy.policy.test_listing import HidingGate

SERVERS: dict[str, Any] = {
    "gh": {"transport": "stdio", "command": "gh-mcp", "credentials": {"type": "user_token", "env": "GH_TOKEN"}},
    "jira": {"transport": "streamable-http", "url": "https://jira.example/mcp"},
}
RULES = {"default": "deny", "rules": [{"everyone": True, "effect": "allow", "servers": {"jira": {}}}]}


@pytest.fixture
def runtimes(make_config: ConfigFactory, clock: FakeClock) -> Iterator[list[Runtime]]:
    built: list[Runtime] = []
    yield built
    for runtime in built:
        runtime.close()


def gateway(make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime], **config: Any) -> Gateway:
    runtime = build_runtime(make_config(servers=SERVERS, **config), clock=clock, env={})
    runtimes.append(runtime)
    return Gateway(runtime)


def test_an_open_policy_installs_no_guard(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    """Zero cost when there is nothing to check (no rules, default allow, no tool filter)."""
    open_gateway = gateway(make_config, clock, runtimes)
    assert open_gateway.policy_decisions is None
    assert not any(isinstance(backend, PolicyGuard) for backend in open_gateway.backends.values())


def test_rules_put_the_guard_outermost_on_every_server(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    guarded = gateway(make_config, clock, runtimes, policy=RULES)
    assert guarded.policy_decisions is not None
    assert all(isinstance(backend, PolicyGuard) for backend in guarded.backends.values())
    outer = guarded.backends["gh"]
    assert isinstance(outer, PolicyGuard) and isinstance(outer.inner, CredentialGuard)  # credentials checked inside


def test_a_static_tool_filter_alone_makes_the_policy_not_open(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    servers = {**SERVERS, "jira": {**SERVERS["jira"], "tools": {"exclude": ["delete_*"]}}}
    runtime = build_runtime(make_config(servers=servers), clock=clock, env={})
    runtimes.append(runtime)
    assert isinstance(Gateway(runtime).backends["jira"], PolicyGuard)


def test_a_pinning_gate_alone_installs_the_guard_without_decisions(
    make_config: ConfigFactory, clock: FakeClock, runtimes: list[Runtime]
) -> None:
    runtime = build_runtime(make_config(servers=SERVERS), clock=clock, env={})
    runtimes.append(runtime)
    gated = Gateway(runtime, tool_gate=HidingGate(set()))
    assert gated.policy_decisions is None
    assert all(isinstance(backend, PolicyGuard) for backend in gated.backends.values())
