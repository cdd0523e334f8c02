"""Which target each checked request names, and the -32012 refusal (our design, docs/endpoints.md)."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.policy.targets import policy_refusal, targets
from proxy.wire.errors import POLICY_DENIED
from tests.unit.proxy.policy.support import access_to, request

ACCESS = access_to("gh", {"tool": ["read_*"], "resource": ["repo://public/*"], "prompt": ["summary"]})


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("tools/call", {"name": "read_file"}, [("tool", "read_file")]),
        ("resources/read", {"uri": "repo://x"}, [("resource", "repo://x")]),
        ("resources/subscribe", {"uri": "repo://x"}, [("resource", "repo://x")]),
        ("resources/unsubscribe", {"uri": "repo://x"}, [("resource", "repo://x")]),
        ("prompts/get", {"name": "summary"}, [("prompt", "summary")]),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "p"}}, [("prompt", "p")]),
        ("completion/complete", {"ref": {"type": "ref/resource", "uri": "u://{x}"}}, [("resource", "u://{x}")]),
        ("completion/complete", {"ref": {"type": "ref/other"}}, [("prompt", "?")]),
        (
            "subscriptions/listen",
            {"notifications": {"resourceSubscriptions": ["a://1", "b://2"]}},
            [("resource", "a://1"), ("resource", "b://2")],
        ),
        ("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, []),
        ("tools/list", {}, []),
        ("initialize", {}, []),
        ("tools/call", {"name": ["read_file"]}, [("tool", "?")]),
    ],
)
def test_each_checked_method_names_its_target(method: str, params: dict[str, Any], expected: list[Any]) -> None:
    """Our design: the table of proxy/policy/targets.py."""
    assert targets(request(method, params)) == expected


def test_an_allowed_target_passes_and_a_denied_one_is_refused_with_minus_32012() -> None:
    """Issue #16: the error names the target and says "not allowed by policy" (never the rule)."""
    assert policy_refusal(ACCESS, request("tools/call", {"name": "read_file"})) is None
    refused = policy_refusal(ACCESS, request("tools/call", {"name": "delete_repo"}))
    assert refused is not None
    assert (refused.code, refused.http_status) == (POLICY_DENIED, 200)
    assert refused.message == "tool 'delete_repo' on server 'gh' is not allowed by policy"
    assert refused.data == {"server": "gh", "tool": "delete_repo", "reason": "policy_denied"}


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("resources/read", {"uri": "repo://private/x"}),
        ("resources/subscribe", {"uri": "repo://private/x"}),
        ("prompts/get", {"name": "leak"}),
        ("completion/complete", {"ref": {"type": "ref/prompt", "name": "leak"}}),
        ("completion/complete", {"ref": {"type": "ref/resource", "uri": "repo://private/{x}"}}),
        ("subscriptions/listen", {"notifications": {"resourceSubscriptions": ["repo://public/a", "repo://p/b"]}}),
        ("tools/call", {}),
        ("completion/complete", {}),
    ],
)
def test_denied_resources_prompts_completions_and_unnamed_targets_are_refused(
    method: str, params: dict[str, Any]
) -> None:
    """Issue #16 (default deny for a checked request without a usable name: our choice)."""
    refused = policy_refusal(ACCESS, request(method, params))
    assert refused is not None and refused.code == POLICY_DENIED


def test_every_request_to_a_server_that_is_not_usable_is_refused() -> None:
    """Issue #16: not even initialize or a list reaches a server the principal may not use."""
    closed = access_to("gh", {"tool": ["*"]}, usable=False)
    for method in ("initialize", "tools/list", "ping", "tools/call"):
        refused = policy_refusal(closed, request(method, {"name": "read_file"}))
        assert refused is not None and refused.message == "server 'gh' is not allowed by policy"
