"""Filtering one page of a list result to what the principal may use (the same decision as calls).

| method | items | name checked |
|---|---|---|
| ``tools/list`` | ``tools`` | tool ``name`` |
| ``resources/list`` | ``resources`` | resource ``uri`` |
| ``resources/templates/list`` | ``resourceTemplates`` | resource ``uriTemplate`` (matched against globs) |
| ``prompts/list`` | ``prompts`` | prompt ``name`` |

Every other member of the result (``nextCursor``, ``_meta``, …) is kept: each page is filtered on
its own and pagination goes on. An item without a string name is dropped. For ``tools/list`` a
:class:`~proxy.policy.tool_gate.ToolGate` first observes the whole page as the upstream sent it,
then the tools it hides go too.
"""

from __future__ import annotations

from typing import Any, Final

from app.policy.access import ServerAccess, TargetKind
from proxy.policy.tool_gate import ToolGate

LISTS: Final[dict[str, tuple[str, TargetKind, str]]] = {
    "tools/list": ("tools", "tool", "name"),
    "resources/list": ("resources", "resource", "uri"),
    "resources/templates/list": ("resourceTemplates", "resource", "uriTemplate"),
    "prompts/list": ("prompts", "prompt", "name"),
}


def needs_filtering(method: str, access: ServerAccess | None, gate: ToolGate | None) -> bool:
    """True when a ``method`` result must pass through :func:`filter_result` (policy, or a gate on tools)."""
    return method in LISTS and (access is not None or (gate is not None and method == "tools/list"))


async def filter_result(
    method: str, result: dict[str, Any], *, server: str, access: ServerAccess | None, gate: ToolGate | None
) -> dict[str, Any]:
    """``result`` (one page of ``method``'s result) without the items ``access`` denies or ``gate`` hides.

    ``access`` None means policy allows everything. Returns ``result`` itself when nothing changes.
    """
    member, kind, key = LISTS[method]
    items = result.get(member)
    if not isinstance(items, list):
        return result
    hidden: frozenset[str] = frozenset()
    if gate is not None and method == "tools/list":
        hidden = await gate.observe(server, [item for item in items if isinstance(item, dict)])
    kept = [item for item in items if _visible(item, key, kind, access, hidden)]
    if len(kept) == len(items):
        return result
    return {**result, member: kept}


def _visible(item: object, key: str, kind: TargetKind, access: ServerAccess | None, hidden: frozenset[str]) -> bool:
    if not isinstance(item, dict):
        return False
    name = item.get(key)
    if not isinstance(name, str) or name in hidden:
        return False
    return access is None or access.allows(kind, name)
