"""Filtering one list page: what is denied or hidden goes, everything else of the result stays (issue #16)."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.policy.listing import filter_result, needs_filtering
from proxy.wire.errors import GatewayError
from tests.unit.proxy.policy.support import access_to

pytestmark = pytest.mark.anyio
ACCESS = access_to("gh", {"tool": ["read_*"], "resource": ["repo://public/*"], "prompt": ["summary"]})


class HidingGate:
    """A real (minimal) ToolGate: hides the tools named in ``hide``; records what it observed."""

    def __init__(self, hide: set[str]) -> None:
        self.hide = frozenset(hide)
        self.observed: list[list[str]] = []

    async def observe(self, server: str, tools: list[dict[str, Any]]) -> frozenset[str]:
        self.observed.append([tool["name"] for tool in tools])
        return self.hide

    def refusal(self, server: str, tool: str) -> GatewayError | None:
        return GatewayError(f"{tool} held") if tool in self.hide else None


async def test_a_tools_page_keeps_allowed_tools_and_its_next_cursor() -> None:
    result = {"tools": [{"name": "read_file"}, {"name": "delete_repo"}, {"name": "read_issue"}], "nextCursor": "2"}
    filtered = await filter_result("tools/list", result, server="gh", access=ACCESS, gate=None)
    assert filtered == {"tools": [{"name": "read_file"}, {"name": "read_issue"}], "nextCursor": "2"}


async def test_resources_templates_and_prompts_are_filtered_by_uri_template_and_name() -> None:
    resources = {"resources": [{"uri": "repo://public/a"}, {"uri": "repo://private/b"}]}
    templates = {"resourceTemplates": [{"uriTemplate": "repo://public/{x}"}, {"uriTemplate": "repo://private/{x}"}]}
    prompts = {"prompts": [{"name": "summary"}, {"name": "leak"}, {"title": "no name"}]}
    assert await filter_result("resources/list", resources, server="gh", access=ACCESS, gate=None) == {
        "resources": [{"uri": "repo://public/a"}]
    }
    assert await filter_result("resources/templates/list", templates, server="gh", access=ACCESS, gate=None) == {
        "resourceTemplates": [{"uriTemplate": "repo://public/{x}"}]
    }
    assert await filter_result("prompts/list", prompts, server="gh", access=ACCESS, gate=None) == {
        "prompts": [{"name": "summary"}]
    }


async def test_an_unchanged_page_is_returned_as_is() -> None:
    result = {"tools": [{"name": "read_file"}]}
    assert await filter_result("tools/list", result, server="gh", access=ACCESS, gate=None) is result


async def test_the_gate_observes_the_whole_page_before_policy_and_its_hidden_tools_go_too() -> None:
    """Issue #16 seam: the gate sees the upstream's list unfiltered; then hidden and denied tools are removed."""
    gate = HidingGate({"read_issue"})
    result = {"tools": [{"name": "read_file"}, {"name": "delete_repo"}, {"name": "read_issue"}]}
    filtered = await filter_result("tools/list", result, server="gh", access=ACCESS, gate=gate)
    assert gate.observed == [["read_file", "delete_repo", "read_issue"]]
    assert filtered == {"tools": [{"name": "read_file"}]}


def test_only_the_four_lists_are_filtered_and_with_an_open_policy_only_a_gated_tools_list() -> None:
    gate = HidingGate(set())
    assert needs_filtering("prompts/list", ACCESS, None)
    assert not needs_filtering("tools/call", ACCESS, gate)
    assert not needs_filtering("resources/list", None, gate)
    assert needs_filtering("tools/list", None, gate)
    assert not needs_filtering("tools/list", None, None)
