"""What access policy costs a warm proxied ``tools/call``: ``python -m bench.policy_cost [CALLS]`` (and
``make bench``'s ``policy`` case).

Two Portico apps in this process, identical but for ``policy``: none (open: no guard is installed)
and 50 rules (49 that do not apply to the caller, then the one that allows ``echo``; default deny).
Each serves ``/s/mcp`` with ``bench/echo_server.py stdio`` behind it (the fastest upstream, so the
policy's share is as large as it can be). A warm 2026-07-28 ``tools/call`` — bearer check of a
verified token, envelope checks, the guard (decision cached per token and server, the tool's
answer memoised), the stdio round trip, the JSON answer — is driven through the app's ASGI
callable directly (no sockets, no HTTP client in the measurement). The two apps are measured in
alternating rounds; each figure is the best round's CPU time of this process per call (the child's
CPU is not counted; on a shared machine wall time mostly measures the neighbours). Then the
guard's check alone, warm.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from app.config import PorticoConfig
from app.crypto import generate_secret
from app.main import create_app
from app.runtime import build_runtime
from bench.alternating import PICKS, added, summarize
from oauth.tokens.access_tokens import AccessTokenClaims, issue_access_token
from proxy.gateway import Gateway
from proxy.policy.guard import PolicyGuard
from proxy.wire.jsonrpc import JsonRpcRequest, encode

ROUNDS = 21
ECHO_SERVER = Path(__file__).resolve().parent / "echo_server.py"
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def fifty_rules() -> dict[str, Any]:
    """49 rules that do not apply to the caller (other users, groups, domains, clients), then one that does."""
    rules: list[dict[str, Any]] = []
    for index in range(49):
        subject = [
            {"users": [f"user{index}@example.com"]},
            {"groups": [f"group-{index}"]},
            {"domains": [f"corp{index}.example"]},
            {"clients": [f"client-{index}"]},
        ][index % 4]
        effect = "deny" if index % 3 == 0 else "allow"
        rules.append({**subject, "effect": effect, "servers": {"s": {"tools": [f"tool_{index}_*", "write_*"]}}})
    rules.append({"everyone": True, "effect": "allow", "servers": {"s": {"tools": ["echo", "read_*"]}}})
    return {"default": "deny", "rules": rules}


class App:
    """One in-process Portico serving ``/s/mcp`` (stdio echo upstream) and the pieces to call it."""

    def __init__(self, scratch: Path, policy: dict[str, Any] | None, *, pinning: str = "off", **sections: Any) -> None:
        """``pinning``: the server's ``pinning`` (off here unless measured: its guard would blur the A/B);
        ``sections``: further top-level config keys (e.g. ``metrics``, bench/observability_cost.py)."""
        data: dict[str, Any] = {
            "public_url": "http://127.0.0.1:8080",
            "database_url": f"sqlite:///{scratch}/portico.db",
            "secrets": {"secret_key": generate_secret(), "generated_key_file": f"{scratch}/generated.key"},
            "servers": {
                "s": {
                    "transport": "stdio",
                    "command": sys.executable,
                    "args": [str(ECHO_SERVER), "stdio"],
                    "pinning": pinning,
                }
            },
        }
        if policy is not None:
            data["policy"] = policy
        data.update(sections)
        self.runtime = build_runtime(PorticoConfig.model_validate(data), env={})
        self.app: ASGIApp = create_app(runtime=self.runtime)
        self.gateway: Gateway = self.app.state.gateway
        token, self.claims = issue_access_token(
            self.runtime.signing_keys,
            issuer="http://127.0.0.1:8080",
            subject="bench-user",
            audience="http://127.0.0.1:8080/s/mcp",
            client_id="bench-client",
            scopes={"mcp"},
            now=datetime.now(UTC),
            lifetime=3600,
        )
        self.headers = [
            (b"host", b"127.0.0.1:8080"),
            (b"accept", b"application/json, text/event-stream"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"mcp-protocol-version", b"2026-07-28"),
            (b"mcp-method", b"tools/call"),
            (b"mcp-name", b"echo"),
        ]
        self.calls = 0

    async def call(self) -> None:
        self.calls += 1
        params = {"name": "echo", "arguments": {"text": f"t{self.calls}"}, "_meta": META}
        body = encode({"jsonrpc": "2.0", "id": self.calls, "method": "tools/call", "params": params})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/s/mcp",
            "raw_path": b"/s/mcp",
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
        }
        delivered = False
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        if f'"t{self.calls}"'.encode() not in answer:
            raise AssertionError(f"unexpected answer: {answer[:200]!r}")


async def _round(app: App, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await app.call()
    return (time.process_time() - started) / calls * 1e6


async def measure(calls: int) -> dict[str, float]:
    off, on = App(Path(tempfile.mkdtemp()), None), App(Path(tempfile.mkdtemp()), fifty_rules())
    pinned = App(Path(tempfile.mkdtemp()), None, pinning="warn")  # the default: the gate's guard, no policy
    assert not any(isinstance(b, PolicyGuard) for b in off.gateway.backends.values())
    assert isinstance(on.gateway.backends["s"], PolicyGuard) and isinstance(pinned.gateway.backends["s"], PolicyGuard)
    apps = {"off": off, "on": on, "pinned": pinned}
    rounds: dict[str, list[float]] = {name: [] for name in apps}
    async with off.gateway.running(), on.gateway.running(), pinned.gateway.running():
        for app in apps.values():
            for _ in range(50):  # start the child, verify and cache the token, decide once
                await app.call()
        names = list(apps)
        for index in range(ROUNDS):  # alternating, and rotating which goes first
            for name in names[index % 3 :] + names[: index % 3]:
                rounds[name].append(await _round(apps[name], calls))
    result = summarize(rounds)
    result["check"] = _check_alone(on.gateway, on.claims)
    for app in apps.values():
        app.runtime.close()
    return result


def _check_alone(gateway: Gateway, claims: AccessTokenClaims) -> float:
    guard = gateway.backends["s"]
    assert isinstance(guard, PolicyGuard) and gateway.policy_decisions is not None
    decisions = gateway.policy_decisions
    request = JsonRpcRequest({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo"}})

    def check() -> object:
        return guard.refusal(decisions.cached(claims.jwt_id, "s"), request)

    assert check() is None
    return min(timeit.repeat(check, timer=time.process_time, number=100_000, repeat=ROUNDS)) / 100_000 * 1e6


def report_lines(result: dict[str, float]) -> list[str]:
    """Markdown lines for ``make bench``'s report (bench/run.py)."""
    lines = [
        f"Warm 2026-07-28 `tools/call` through the app's ASGI callable, stdio echo upstream, CPU of Portico's "
        f"process per call, {ROUNDS} alternating rounds (target: 50 rules within +3 % of no policy).",
        "",
        "| rounds | no policy, pinning off | 50 rules | added | pinning warn (the default) | added |",
        "|---|---|---|---|---|---|",
    ]
    for how in PICKS:
        off, on, pinned = (result[f"{name} {how}"] for name in ("off", "on", "pinned"))
        lines.append(
            f"| {how} | {off:.1f} µs | {on:.1f} µs | {added(off, on)} | {pinned:.1f} µs | {added(off, pinned)} |"
        )
    lines += ["", f"The guard's check alone (cached decision, memoised name): {result['check']:.3f} µs per call."]
    return lines


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print("\n".join(report_lines(asyncio.run(measure(calls)))))


if __name__ == "__main__":
    main()
