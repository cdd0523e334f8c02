"""Property (issue #16): for random rule sets, users and tool names, a tool appears in the filtered
``tools/list`` if and only if the guard lets a call of it through.

Through the real pieces: the rule engine (:class:`app.policy.engine.RulePolicy`), the list-filtering
``send`` writing a real JSON answer, and the guard's own check (:meth:`PolicyGuard.refusal`). The list
and the call each get a fresh decision, so the memo of one cannot make the other agree.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message

from app.config.policy import PolicyConfig
from app.config.tool_filter import ToolFilterConfig
from app.policy.access import ServerAccess
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from proxy.policy.guard import PolicyGuard
from proxy.policy.list_send import ListFilteringSend
from proxy.policy.listing import filter_result
from proxy.wire.asgi import send_json
from proxy.wire.jsonrpc import encode
from tests.unit.proxy.policy.support import request
from tests.unit.proxy.policy.test_guard import RecordingBackend

SERVERS = ("gh", "jira")
NAMES = st.sampled_from(["read_file", "read_issue", "delete_repo", "write_file", "admin", "x", "read"]) | st.text(
    alphabet="adefilr_", min_size=1, max_size=6
)
PATTERNS = st.sampled_from(["read_*", "*_file", "delete_*", "*", "admin", "w?ite_*", "[rd]*", "x"])
SUBJECTS = st.sampled_from(
    [
        {"everyone": True},
        {"users": ["ann@eng.example"]},
        {"domains": ["ops.example"]},
        {"groups": ["eng"]},
        {"groups": ["ops", "eng"]},
        {"clients": ["c1"]},
    ]
)
TARGETS = st.one_of(st.just({}), st.builds(lambda tools: {"tools": tools}, st.lists(PATTERNS, min_size=1, max_size=3)))
RULES = st.lists(
    st.builds(
        lambda subject, effect, server, targets: {**subject, "effect": effect, "servers": {server: targets}},
        SUBJECTS,
        st.sampled_from(["allow", "deny"]),
        st.sampled_from([*SERVERS, "*"]),
        TARGETS,
    ),
    max_size=5,
)
FILTERS = st.builds(
    lambda include, exclude: ToolFilterConfig(include=include or None, exclude=exclude),
    st.lists(PATTERNS, max_size=2),
    st.lists(PATTERNS, max_size=2),
)
PRINCIPALS = st.builds(
    lambda email, groups, client: Principal("s", email, tuple(groups), client),
    st.sampled_from(["ann@eng.example", "bob@ops.example", "eve@else.example", None]),
    st.lists(st.sampled_from(["eng", "ops", "sales"]), max_size=2, unique=True),
    st.sampled_from(["c1", "c2"]),
)


def listed(access: ServerAccess, tools: list[str]) -> list[str]:
    """The names in the answer to ``tools/list`` after the list-filtering send (as a client receives it)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def apply(method: str, result: dict[str, Any]) -> dict[str, Any]:
        return await filter_result(method, result, server=access.server, access=access, gate=None)

    answer = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": name} for name in tools]}}
    anyio.run(send_json, ListFilteringSend(send, {1: "tools/list"}, apply), 200, encode(answer))
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    return [tool["name"] for tool in body["result"]["tools"]]


@settings(max_examples=300, deadline=None)
@given(
    default=st.sampled_from(["allow", "deny"]),
    rules=RULES,
    tool_filter=FILTERS,
    principal=PRINCIPALS,
    server=st.sampled_from(SERVERS),
    tools=st.lists(NAMES, max_size=8, unique=True),
)
def test_a_tool_is_listed_if_and_only_if_calling_it_is_allowed(
    default: str,
    rules: list[dict[str, Any]],
    tool_filter: ToolFilterConfig,
    principal: Principal,
    server: str,
    tools: list[str],
) -> None:
    policy = RulePolicy(
        PolicyConfig.model_validate({"default": default, "rules": rules}),
        {"gh": tool_filter, "jira": ToolFilterConfig()},
    )
    guard = PolicyGuard(RecordingBackend(), decisions=None)
    visible = set(listed(policy.access(principal, server), tools))
    calling = policy.access(principal, server)
    callable_tools = {name for name in tools if guard.refusal(calling, request("tools/call", {"name": name})) is None}
    assert visible == callable_tools
