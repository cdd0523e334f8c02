"""When a server is usable (app/policy/decide.py), and that an unusable server allows nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.app.policy.build import person, policy

EVERYONE: dict[str, Any] = {"everyone": True}


def r(effect: str, targets: dict[str, Any] | None = None, **subjects: Any) -> dict[str, Any]:
    return {"effect": effect, "servers": {"github": targets or {}}} | (subjects or EVERYONE)


@pytest.mark.parametrize(
    ("rules", "default", "usable", "source"),
    [
        ([], "allow", True, "policy.default"),
        ([], "deny", False, "policy.default"),
        ([r("deny")], "allow", False, "policy.rules[0]"),
        ([r("allow")], "deny", True, "policy.rules[0]"),
        ([r("allow", {"tools": ["get_*"]}), r("deny")], "allow", True, "policy.rules[0]"),
        ([r("deny", {"tools": ["get_*"]}), r("deny")], "allow", False, "policy.rules[1]"),
        ([r("deny", {"tools": ["*"]})], "allow", True, "policy.default"),
        ([r("allow", {"prompts": ["p"]})], "deny", True, "policy.rules[0]"),
        ([r("deny", {"prompts": ["p"]})], "deny", False, "policy.default"),
        ([r("deny", groups=["x"]), r("allow")], "deny", True, "policy.rules[1]"),
        ([r("deny"), r("allow")], "deny", False, "policy.rules[0]"),
    ],
)
def test_usable_follows_the_first_whole_server_rule_and_earlier_allows(
    rules: list[dict[str, Any]], default: str, usable: bool, source: str
) -> None:
    engine = policy(rules, default)
    assert engine.access(person(), "github").usable is usable
    decision = engine.explain(person(), "github")
    assert (decision.allowed, decision.source.key) == (usable, source)


def test_an_unusable_server_denies_every_target() -> None:
    engine = policy([r("deny", {"tools": ["get_*"]}), r("deny")])
    access = engine.access(person(), "github")
    assert not access.usable
    for kind, name in [("tool", "get_x"), ("tool", "y"), ("resource", "a://b"), ("prompt", "p")]:
        assert not access.allows(kind, name)  # type: ignore[arg-type]
        assert not engine.explain(person(), "github", kind, name).allowed  # type: ignore[arg-type]


def test_usable_depends_on_the_principal() -> None:
    engine = policy([r("allow", groups=["contractors"]), r("deny", domains=["contractor.example"])])
    assert engine.access(person("c@contractor.example", groups=("contractors",)), "github").usable
    assert not engine.access(person("c@contractor.example"), "github").usable
    assert engine.access(person("e@example.com"), "github").usable
