"""What ``portico limits explain USER SERVER [TOOL]`` prints: the rules and quotas that count a request.

Pure: reads the compiled configuration (:class:`~app.limits.rules.CompiledLimits`), the same the
gateway enforces — never the store, so it says which limits apply and how each is keyed, not how
many tokens are left. Limits do not depend on who the user is (only on whose bucket counts), so
USER needs no database lookup. docs/limits.md §Explain.
"""

from __future__ import annotations

from app.limits.rules import CompiledLimits, Rule

_KEYS = {
    "user": "per user ({user}, on every server the rule names)",
    "client": "per OAuth client (the token's client_id)",
    "user+server": "per user on this server ({user} on {server})",
    "user+tool": "per user and tool ({user}: {server}/{tool})",
    "server": "per server (every user of {server} together)",
    "client_address": "per client address",
}


def explain(compiled: CompiledLimits, *, user: str, server: str, tool: str | None, shared: bool) -> list[str]:
    """Lines naming every rule and quota counting a request of ``user`` to ``server`` (a ``tools/call``
    of ``tool`` when given, else any other request)."""
    what = f"tools/call {tool!r}" if tool is not None else "a request other than tools/call"
    lines = [f"{what} by {user} on server {server!r}:"]
    limits = compiled.servers.get(server)
    rules, quotas = limits.rules_for("tools/call" if tool else "", tool) if limits is not None else ((), ())
    lines += [f"  rule {r.name}: {_rate(r)}, burst {r.burst}, {_key(r, user, server, tool)}" for r in rules]
    lines += [f"  quota {q.name}: {q.calls} tools/call per user per UTC {q.per} ({user})" for q in quotas]
    if not rules and not quotas:
        lines.append("  no rule or quota limits it")
    store = "Redis (shared by every instance)" if shared else "in process (each process counts on its own)"
    lines.append(f"counted {store}; over a limit: -32014 with data.limit and data.retry_after")
    return lines


def _rate(rule: Rule) -> str:
    return rule.text or f"{rule.rate:g}/second"


def _key(rule: Rule, user: str, server: str, tool: str | None) -> str:
    return _KEYS[rule.key].format(user=user, server=server, tool=tool or "-")
