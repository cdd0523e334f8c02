"""``policy`` and ``servers.<name>.tools``: validation, with the key path of each problem."""

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


def load(tmp_path: Path, policy: Any = None, servers: dict[str, Any] | None = None) -> PorticoConfig:
    data: dict[str, Any] = {"public_url": "https://gw.example.com", "servers": servers or SERVERS}
    if policy is not None:
        data["policy"] = policy
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, env={})


def problems(tmp_path: Path, policy: Any = None, servers: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, policy, servers)
    return [(p.key_path, p.message) for p in caught.value.problems]


def rule(**fields: Any) -> dict[str, Any]:
    return {"effect": "allow", "everyone": True, "servers": {"github": {}}} | fields


def test_an_absent_policy_allows_everything(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.policy.default == "allow" and config.policy.rules == []
    assert config.servers["github"].tools.include is None and config.servers["github"].tools.exclude == []


def test_a_full_policy_loads(tmp_path: Path) -> None:
    policy = {
        "default": "deny",
        "rules": [
            {
                "name": "eng-write",
                "effect": "allow",
                "groups": ["engineering"],
                "domains": ["example.com"],
                "servers": {"github": {"tools": ["create_*"], "resources": ["repo://*"], "prompts": ["*"]}},
            },
            rule(effect="deny", everyone=None, clients=["https://claude.ai/oauth/mcp-oauth-client-metadata"]),
            rule(servers={"*": {}}, everyone=None, users=["Ann@Example.com"]),
        ],
    }
    config = load(tmp_path, policy)
    first = config.policy.rules[0]
    assert config.policy.default == "deny" and first.label(0) == "eng-write"
    assert first.servers["github"].tools == ["create_*"] and not first.servers["github"].whole_server
    assert config.policy.rules[2].servers["*"].whole_server and config.policy.rules[2].label(2) == "rules[2]"


def test_a_misspelt_server_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    policy = {"rules": [rule(), rule(), rule(servers={"gihub": {}})]}
    assert problems(tmp_path, policy) == [
        ("policy.rules.2.servers.gihub", "no server named 'gihub'; did you mean 'github'?")
    ]


def test_every_unknown_server_is_reported_and_a_glob_matching_none_is_accepted(tmp_path: Path) -> None:
    policy = {"rules": [rule(servers={"jira": {}, "gh-*": {}}), rule(servers={"slack": {}})]}
    found = problems(tmp_path, policy)
    assert [key for key, _ in found] == ["policy.rules.0.servers.jira", "policy.rules.1.servers.slack"]
    assert found[0][1] == "no server named 'jira'"


def test_a_rule_without_subjects_is_refused_at_its_key_path(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, {"rules": [rule(), rule(everyone=None)]})
    assert key_path == "policy.rules.1"
    assert "needs subjects" in message


def test_everyone_is_said_one_way_only(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, {"rules": [rule(groups=["eng"])]})
    assert key_path == "policy.rules.0" and "everyone: true takes no other subjects (remove groups)" in message
    [(key_path, message)] = problems(tmp_path, {"rules": [rule(everyone=None, users=["*"])]})
    assert key_path == "policy.rules.0.users" and "say everyone: true" in message
    [(key_path, _)] = problems(tmp_path, {"rules": [rule(everyone=False)]})
    assert key_path == "policy.rules.0.everyone"


@pytest.mark.parametrize(
    ("policy", "expected_path"),
    [
        ({"default": "maybe"}, "policy.default"),
        ({"rules": [rule(effect="permit")]}, "policy.rules.0.effect"),
        ({"rules": [rule(servers={})]}, "policy.rules.0.servers"),
        ({"rules": [rule(servers={"github": {"tools": []}})]}, "policy.rules.0.servers.github.tools"),
        ({"rules": [rule(servers={"github": {"tool": ["x"]}})]}, "policy.rules.0.servers.github.tool"),
        ({"rules": [rule(groups=[""], everyone=None)]}, "policy.rules.0.groups"),
        ({"rule": []}, "policy.rule"),
        ({"rules": [rule(everyone=None, users=["alice"])]}, "policy.rules.0.users"),
        ({"rules": [rule(everyone=None, domains=["@example.com"])]}, "policy.rules.0.domains"),
    ],
)
def test_malformed_policy_keys_are_refused_at_their_path(tmp_path: Path, policy: Any, expected_path: str) -> None:
    assert [key for key, _ in problems(tmp_path, policy)] == [expected_path]


def test_a_misspelt_kind_suggests_the_right_one(tmp_path: Path) -> None:
    found = problems(tmp_path, {"rules": [rule(servers={"github": {"tool": ["x"]}})]})
    assert found == [("policy.rules.0.servers.github.tool", "unknown key; did you mean 'tools'?")]


def test_the_static_tool_filter_loads_and_is_validated(tmp_path: Path) -> None:
    servers = {"github": SERVERS["github"] | {"tools": {"include": ["get_*"], "exclude": ["get_secret"]}}}
    config = load(tmp_path, servers=servers)
    assert config.servers["github"].tools.include == ["get_*"]
    bad = {"github": SERVERS["github"] | {"tools": {"includes": ["get_*"]}}}
    assert problems(tmp_path, servers=bad) == [
        ("servers.github.tools.includes", "unknown key; did you mean 'include'?")
    ]
    empty: dict[str, Any] = {"docs": SERVERS["docs"] | {"tools": {"include": []}}}
    assert [key for key, _ in problems(tmp_path, servers=empty)] == ["servers.docs.tools.include"]
