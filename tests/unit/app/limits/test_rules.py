"""Compiled rules: which rules count which request, bucket keys per identity, quota windows, endpoint defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.config.rate_limits import QuotaConfig, RateLimitRuleConfig
from app.limits.buckets import Bucket, Counter
from app.limits.explain import explain
from app.limits.rules import CompiledLimits, Identity, quota_window

NOW = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
ALICE = Identity("alice", "client-a", "203.0.113.5")


def compile_(rules: list[dict[str, Any]], quotas: list[dict[str, Any]] = (), **options: Any) -> CompiledLimits:  # type: ignore[assignment]
    return CompiledLimits.of(
        [RateLimitRuleConfig.model_validate(r) for r in rules],
        [QuotaConfig.model_validate(q) for q in quotas],
        ["github", "gitlab", "docs"],
        **options,
    )


def test_a_server_no_rule_names_has_nothing_installed() -> None:
    compiled = compile_([{"name": "gh", "key": "user", "servers": ["git*"], "rate": "1/second"}])
    assert set(compiled.servers) == {"github", "gitlab"}


def test_tool_rules_count_only_matching_tool_calls_and_others_count_every_request() -> None:
    compiled = compile_(
        [
            {"name": "all", "key": "user", "servers": ["github"], "rate": "1/second"},
            {"name": "deletes", "key": "user", "servers": ["github"], "tools": ["delete_*"], "rate": "1/minute"},
            {"name": "per-tool", "key": "user+tool", "servers": ["github"], "rate": "1/minute"},
        ]
    )
    limits = compiled.servers["github"]

    def names(method: str, tool: str | None) -> list[str]:
        return [r.name for r in limits.rules_for(method, tool)[0]]

    assert names("tools/list", None) == ["all"]
    assert names("tools/call", "get_issue") == ["all", "per-tool"]
    assert names("tools/call", "delete_repo") == ["all", "deletes", "per-tool"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("user", "r:r\x1falice"),
        ("client", "r:r\x1fclient-a"),
        ("user+server", "r:r\x1falice\x1fgithub"),
        ("user+tool", "r:r\x1falice\x1fgithub\x1fcreate"),
        ("server", "r:r\x1fgithub"),
        ("client_address", "r:r\x1f203.0.113.5"),
    ],
)
def test_each_key_gives_its_own_bucket(key: str, expected: str) -> None:
    compiled = compile_([{"name": "r", "key": key, "servers": ["github"], "rate": "6/minute", "burst": 3}])
    [bucket] = compiled.servers["github"].items("tools/call", "create", ALICE, NOW)
    assert bucket == Bucket(expected, rate=0.1, burst=3, rule="r")


def test_quota_windows_end_at_the_next_utc_day_and_month() -> None:
    assert quota_window("day", NOW) == ("2026-12-31", datetime(2027, 1, 1, tzinfo=UTC))
    assert quota_window("month", NOW) == ("2026-12", datetime(2027, 1, 1, tzinfo=UTC))
    assert quota_window("month", datetime(2026, 2, 10, tzinfo=UTC)) == ("2026-02", datetime(2026, 3, 1, tzinfo=UTC))
    compiled = compile_([], [{"name": "daily", "per": "day", "calls": 5, "servers": ["docs"], "tools": ["search"]}])
    [counter] = compiled.servers["docs"].items("tools/call", "search", ALICE, NOW)
    assert counter == Counter(
        "q:daily\x1f2026-12-31\x1falice", 5, datetime(2027, 1, 1, tzinfo=UTC).timestamp(), "daily"
    )
    assert compiled.servers["docs"].items("tools/call", "other", ALICE, NOW) == []
    assert compiled.servers["docs"].items("tools/list", None, ALICE, NOW) == []


def test_every_endpoint_has_a_default_and_a_configured_rule_replaces_it() -> None:
    defaults = compile_([], registrations_per_minute=6)
    assert {e: [r.name for r in rules] for e, rules in defaults.endpoints.items()} == {
        "/register": ["default-register"],
        "/token": ["default-token"],
        "/authorize": ["default-authorize"],
        "sign-in": ["default-sign-in"],
    }
    assert (defaults.endpoints["/register"][0].rate, defaults.endpoints["/register"][0].burst) == (0.1, 6)
    own = compile_([{"name": "t", "key": "client_address", "endpoints": ["/token"], "rate": "1/second"}])
    assert [r.name for r in own.endpoints["/token"]] == ["t"]
    assert [r.name for r in own.endpoints["/register"]] == ["default-register"]


def test_explain_names_the_rules_and_quotas_of_a_call_and_how_each_is_keyed() -> None:
    compiled = compile_(
        [{"name": "deletes", "key": "user+tool", "servers": ["github"], "tools": ["delete_*"], "rate": "2/hour"}],
        [{"name": "monthly", "per": "month", "calls": 100}],
    )
    lines = explain(compiled, user="alice@example.com", server="github", tool="delete_repo", shared=True)
    assert lines == [
        "tools/call 'delete_repo' by alice@example.com on server 'github':",
        "  rule deletes: 2/hour, burst 2, per user and tool (alice@example.com: github/delete_repo)",
        "  quota monthly: 100 tools/call per user per UTC month (alice@example.com)",
        "counted Redis (shared by every instance); over a limit: -32014 with data.limit and data.retry_after",
    ]
    other = explain(compiled, user="bob", server="docs", tool=None, shared=False)
    assert other[1] == "  no rule or quota limits it" and "in process" in other[2]
