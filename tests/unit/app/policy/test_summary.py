"""What a principal may use, in words (explain without a tool, the consent page)."""

from __future__ import annotations

from typing import Any

import pytest

from app.policy.summary import summarize
from tests.unit.app.policy.build import person, policy


def r(effect: str, targets: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"effect": effect, "everyone": True, "servers": {"github": targets or {}}}


def tools_text(rules: list[dict[str, Any]], default: str = "allow", tools: dict[str, Any] | None = None) -> str:
    engine = policy(rules, default, tools={"github": tools} if tools else None)
    return summarize(engine.standing(person(), "github"))[0].text


@pytest.mark.parametrize(
    ("rules", "default", "text"),
    [
        ([], "allow", "all tools"),
        ([], "deny", "no tools"),
        ([r("allow", {"tools": ["get_*", "list_*"]})], "deny", "only tools matching get_*, list_*"),
        ([r("allow", {"tools": ["get_*", "list_*"]}), r("deny")], "allow", "only tools matching get_*, list_*"),
        ([r("deny", {"tools": ["delete_*"]})], "allow", "all tools except delete_*"),
        ([r("deny", {"tools": ["delete_*"]}), r("allow", {"tools": ["*"]})], "deny", "all tools except delete_*"),
        ([r("deny", {"tools": ["x"]}), r("deny")], "allow", "no tools"),
        ([r("allow", {"prompts": ["p"]})], "deny", "no tools"),
        (
            [r("deny", {"tools": ["delete_own"]}), r("allow", {"tools": ["delete_*"]})],
            "deny",
            "tools by first match: delete_own: not allowed; delete_*: allowed; any other: not allowed",
        ),
    ],
)
def test_the_tool_sentence_follows_first_match(rules: list[dict[str, Any]], default: str, text: str) -> None:
    assert tools_text(rules, default) == text


def test_the_static_filter_shows_in_the_sentence() -> None:
    assert tools_text([], tools={"exclude": ["delete_*"]}) == "all tools except delete_*"
    assert tools_text([], tools={"include": ["get_*"]}) == "only tools matching get_*"
    text = tools_text([r("deny", {"tools": ["get_secret"]})], tools={"include": ["get_*"]})
    assert text == "all tools except get_secret (and the server's tool filter: only tools matching get_*)"


def test_each_kind_is_summarised_and_an_unusable_server_offers_nothing() -> None:
    engine = policy([r("allow", {"resources": ["repo://*"]})], "deny")
    tools, resources, prompts = summarize(engine.standing(person(), "github"))
    assert (tools.text, resources.text, prompts.text) == ("no tools", "only resources matching repo://*", "no prompts")
    closed = summarize(policy([r("deny")]).standing(person(), "github"))
    assert all(s.nothing for s in closed)
    assert summarize(policy([]).standing(person(), "github"))[0].everything
