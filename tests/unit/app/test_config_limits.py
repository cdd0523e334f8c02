"""``limits.rules``, ``limits.quotas`` and ``redis``: loaded, or refused at their key path (docs/limits.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import ConfigError, PorticoConfig, load_config

SERVERS = {
    "github": {"transport": "streamable-http", "url": "https://mcp.github.example/mcp"},
    "docs": {"transport": "stdio", "command": "docs-mcp"},
}


def load(tmp_path: Path, limits: Any = None, **top: Any) -> PorticoConfig:
    data: dict[str, Any] = {"public_url": "https://gw.example.com", "servers": SERVERS, **top}
    if limits is not None:
        data["limits"] = limits
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, env={"REDIS_URL": "redis://:sekrit@redis.internal:6379/0"})


def problems(tmp_path: Path, limits: Any = None, **top: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, limits, **top)
    return [(p.key_path, p.message) for p in caught.value.problems]


def rule(**fields: Any) -> dict[str, Any]:
    return {"name": "r", "key": "user", "servers": ["github"], "rate": "10/minute"} | fields


def test_rules_and_quotas_load_with_their_rates_in_seconds(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "max_body_bytes": 1000,
            "rules": [
                rule(name="per-user", rate="120/minute"),
                rule(name="deletes", key="user+tool", servers=["git*"], tools=["delete_*"], rate="2/hour", burst=5),
                {"name": "tokens", "key": "client_address", "endpoints": ["/token", "sign-in"], "rate": "1.5/second"},
            ],
            "quotas": [{"name": "daily", "per": "day", "calls": 1000}],
        },
        redis={"url": "${REDIS_URL}"},
    )
    per_user, deletes, tokens = config.limits.rules
    assert (per_user.per_second, per_user.capacity) == (2.0, 120)
    assert (deletes.per_second, deletes.capacity) == (2 / 3600, 5)
    assert (tokens.per_second, tokens.capacity) == (1.5, 2)
    assert config.limits.quotas[0].servers == ["*"] and config.limits.max_body_bytes == 1000
    assert config.redis.url == "redis://:sekrit@redis.internal:6379/0"


def test_nothing_configured_means_no_rules_and_no_redis(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.limits.rules == [] and config.limits.quotas == [] and config.redis.url is None
    assert config.limits.lease == "auto"


def test_leases_can_be_turned_off(tmp_path: Path) -> None:
    assert load(tmp_path, {"lease": "off"}).limits.lease == "off"


def test_a_misspelt_server_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "rules": [rule(servers=["docs", "gihub"])],
            "quotas": [{"name": "q", "per": "month", "calls": 1, "servers": ["slack"]}],
        },
    )
    assert found == [
        ("limits.rules.0.servers.1", "no server named 'gihub'; did you mean 'github'?"),
        ("limits.quotas.0.servers.0", "no server named 'slack'"),
    ]


@pytest.mark.parametrize(
    ("limits", "path", "message"),
    [
        ({"rules": [rule(rate="10 per minute")]}, "limits.rules.0.rate", "not a rate such as 10/minute"),
        ({"rules": [rule(rate="0/second")]}, "limits.rules.0.rate", "more than 0"),
        ({"rules": [rule(key="ip")]}, "limits.rules.0.key", "'user', 'client'"),
        ({"rules": [rule(burst=0)]}, "limits.rules.0.burst", "greater than 0"),
        ({"rules": [rule(name="Per User")]}, "limits.rules.0.name", "metric label"),
        ({"rules": [rule(name="default-token")]}, "limits.rules.0.name", "built-in endpoint rules"),
        ({"rules": [rule(servers=None)]}, "limits.rules.0", "either servers"),
        ({"rules": [rule(endpoints=["/token"])]}, "limits.rules.0", "either servers"),
        ({"rules": [rule(servers=None, endpoints=["/token"])]}, "limits.rules.0", "keyed on client_address"),
        (
            {"rules": [rule(servers=None, key="client_address", endpoints=["/revoke"])]},
            "limits.rules.0.endpoints.0",
            "'/register'",
        ),
        ({"rules": [rule(), rule()]}, "limits", "the name 'r' is used twice"),
        ({"quotas": [{"name": "q", "per": "week", "calls": 1}]}, "limits.quotas.0.per", "'day' or 'month'"),
        ({"rule": []}, "limits.rule", "did you mean 'rules'?"),
        ({"lease": "on"}, "limits.lease", "'auto' or 'off'"),
    ],
)
def test_malformed_limits_are_refused_at_their_key_path(tmp_path: Path, limits: Any, path: str, message: str) -> None:
    [(key_path, text)] = problems(tmp_path, limits)
    assert key_path == path and message in text, (key_path, text)


def test_a_redis_url_of_another_scheme_is_refused_without_echoing_it(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, redis={"url": "http://:sekrit@redis.internal"})
    assert key_path == "redis.url" and "redis://" in message and "sekrit" not in message
