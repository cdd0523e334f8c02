"""The rule engine: first match, globs, each kind of subject, default, static filter, explain == access."""

from __future__ import annotations

from typing import Any

import pytest

from app.policy.access import TargetKind
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from tests.unit.app.policy.build import person, policy

CLAUDE = "https://claude.ai/oauth/mcp-oauth-client-metadata"


def allowed(engine: RulePolicy, who: Principal, server: str, kind: TargetKind, name: str) -> bool:
    """access().allows, checked against explain() every time (the one decision function)."""
    verdict = engine.access(who, server).allows(kind, name)
    assert engine.explain(who, server, kind, name).allowed is verdict
    return verdict


def test_no_rules_and_default_allow_is_open_and_allows_everything() -> None:
    engine = policy([])
    assert engine.is_open
    assert allowed(engine, person(), "github", "tool", "delete_repo")
    assert engine.explain(person(), "github").source.key == "policy.default"


def test_default_deny_denies_what_no_rule_covers() -> None:
    engine = policy([{"effect": "allow", "everyone": True, "servers": {"docs": {}}}], default="deny")
    assert not engine.is_open
    assert allowed(engine, person(), "docs", "prompt", "summarise")
    assert not allowed(engine, person(), "github", "tool", "get_issue")
    decision = engine.explain(person(), "github", "tool", "get_issue")
    assert (decision.allowed, decision.source.key, decision.source.effect) == (False, "policy.default", "deny")


def test_the_first_matching_rule_wins() -> None:
    rules = [
        {"effect": "deny", "everyone": True, "servers": {"github": {"tools": ["delete_*"]}}},
        {"effect": "allow", "everyone": True, "servers": {"github": {"tools": ["delete_*", "get_*"]}}},
        {"effect": "deny", "everyone": True, "servers": {"github": {}}},
    ]
    engine = policy(rules)
    assert not allowed(engine, person(), "github", "tool", "delete_repo")
    assert engine.explain(person(), "github", "tool", "delete_repo").source.rule_index == 0
    assert allowed(engine, person(), "github", "tool", "get_issue")
    assert engine.explain(person(), "github", "tool", "get_issue").source.rule_index == 1
    assert not allowed(engine, person(), "github", "tool", "create_issue")
    assert engine.explain(person(), "github", "tool", "create_issue").source.rule_index == 2


def test_a_rule_that_does_not_match_the_principal_is_skipped() -> None:
    rules: list[dict[str, Any]] = [
        {"name": "eng", "effect": "allow", "groups": ["engineering"], "servers": {"github": {}}},
        {"effect": "deny", "everyone": True, "servers": {"github": {}}},
    ]
    engine = policy(rules)
    assert allowed(engine, person(groups=("engineering",)), "github", "tool", "x")
    assert not allowed(engine, person(groups=("sales",)), "github", "tool", "x")


@pytest.mark.parametrize(
    ("subjects", "who", "described"),
    [
        ({"users": ["Ann@Example.COM"]}, person("ann@example.com"), "user 'ann@example.com'"),
        ({"users": ["ann@example.com"]}, person("ANN@example.com"), "user 'ann@example.com'"),
        ({"domains": ["Example.com"]}, person("bob@EXAMPLE.com"), "domain 'example.com'"),
        ({"groups": ["engineering"]}, person(groups=("sales", "engineering")), "group 'engineering'"),
        ({"clients": [CLAUDE]}, person(client_id=CLAUDE), f"client '{CLAUDE}'"),
        ({"clients": ["cli-123"]}, person(client_id="cli-123"), "client 'cli-123'"),
        ({"everyone": True}, person(None), "everyone"),
    ],
)
def test_each_kind_of_subject_matches_and_is_named(subjects: dict[str, object], who: Principal, described: str) -> None:
    engine = policy([{"effect": "deny", "servers": {"github": {}}} | subjects])
    decision = engine.explain(who, "github", "tool", "get_issue")
    assert not decision.allowed
    assert decision.source.subject == described
    assert not engine.access(who, "github").usable


@pytest.mark.parametrize(
    ("subjects", "who"),
    [
        ({"users": ["ann@example.com"]}, person("ann@example.org")),
        ({"users": ["ann@example.com"]}, person(None)),
        ({"domains": ["example.com"]}, person("ann@sub.example.com")),
        ({"domains": ["example.com"]}, person("ann@badexample.com")),
        ({"groups": ["engineering"]}, person(groups=("Engineering",))),
        ({"clients": [CLAUDE]}, person(client_id=CLAUDE + "/")),
    ],
)
def test_a_subject_that_does_not_match_leaves_the_default(subjects: dict[str, object], who: Principal) -> None:
    engine = policy([{"effect": "deny", "servers": {"github": {}}} | subjects])
    assert allowed(engine, who, "github", "tool", "get_issue")
    assert engine.explain(who, "github", "tool", "get_issue").source.key == "policy.default"


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("get_*", "get_issue", True),
        ("get_*", "Get_issue", False),
        ("get_?", "get_a", True),
        ("get_?", "get_ab", False),
        ("[gl]ist", "list", True),
        ("[!gl]ist", "list", False),
        ("create_issue", "create_issue", True),
        ("create_issue", "create_issue_comment", False),
    ],
)
def test_tool_globs_are_fnmatch_and_case_sensitive(pattern: str, name: str, matches: bool) -> None:
    engine = policy([{"effect": "allow", "everyone": True, "servers": {"github": {"tools": [pattern]}}}], "deny")
    assert allowed(engine, person(), "github", "tool", name) is matches


def test_resource_globs_match_uris_across_slashes_and_kinds_stay_apart() -> None:
    rules = [{"effect": "allow", "everyone": True, "servers": {"docs": {"resources": ["file:///docs/*"]}}}]
    engine = policy(rules, "deny")
    assert allowed(engine, person(), "docs", "resource", "file:///docs/a/b.md")
    assert allowed(engine, person(), "docs", "resource", "file:///docs/{path}")
    assert not allowed(engine, person(), "docs", "resource", "file:///etc/passwd")
    assert not allowed(engine, person(), "docs", "tool", "file:///docs/a")
    assert not allowed(engine, person(), "docs", "prompt", "file:///docs/a")


def test_server_globs_and_a_whole_server_entry() -> None:
    rules = [
        {"effect": "allow", "everyone": True, "servers": {"git*": {"prompts": ["review"]}, "github": {"tools": ["x"]}}},
        {"effect": "deny", "everyone": True, "servers": {"*": {}}},
    ]
    engine = policy(rules)
    assert allowed(engine, person(), "github", "prompt", "review") and allowed(engine, person(), "github", "tool", "x")
    assert not allowed(engine, person(), "github", "tool", "y")
    assert not allowed(engine, person(), "jira", "prompt", "review")
    assert not engine.access(person(), "docs").usable


def test_the_static_filter_beats_every_rule() -> None:
    rules = [{"effect": "allow", "everyone": True, "servers": {"github": {}}}]
    engine = policy(rules, "deny", tools={"github": {"include": ["get_*", "delete_*"], "exclude": ["delete_*"]}})
    assert not engine.is_open
    assert allowed(engine, person(), "github", "tool", "get_issue")
    decision = engine.explain(person(), "github", "tool", "delete_repo")
    assert (decision.allowed, decision.source.key) == (False, "servers.github.tools.exclude")
    decision = engine.explain(person(), "github", "tool", "create_issue")
    assert (decision.allowed, decision.source.key) == (False, "servers.github.tools.include")
    assert allowed(engine, person(), "github", "resource", "delete_me")  # the filter is for tools only


def test_a_static_filter_alone_closes_the_open_policy() -> None:
    engine = policy([], tools={"docs": {"exclude": ["rm"]}})
    assert not engine.is_open
    assert not allowed(engine, person(), "docs", "tool", "rm") and allowed(engine, person(), "github", "tool", "rm")


def test_explain_names_the_rule_and_its_subject() -> None:
    rules = [{"name": "eng-write", "effect": "allow", "groups": ["engineering"], "servers": {"github": {}}}]
    decision = policy(rules, "deny").explain(person(groups=("engineering",)), "github", "tool", "merge")
    assert decision.source.describe() == "policy.rules[0] 'eng-write' (allow; matched group 'engineering')"
    unnamed = policy([{"effect": "deny", "everyone": True, "servers": {"github": {}}}])
    assert unnamed.explain(person(), "github").source.describe() == "policy.rules[0] (deny; matched everyone)"


def test_explain_needs_both_kind_and_name_or_neither() -> None:
    with pytest.raises(ValueError, match="both kind and name"):
        policy([]).explain(person(), "github", "tool", None)


def test_a_server_outside_the_configuration_follows_globs_and_the_default() -> None:
    engine = policy([{"effect": "allow", "everyone": True, "servers": {"*": {}}}], "deny")
    assert allowed(engine, person(), "unlisted", "tool", "x")
