"""What observability costs a warm proxied ``tools/call``: ``python -m bench.observability_cost [CALLS]``
(and ``make bench``'s ``observability`` case).

Three Portico apps in this process, identical but for ``metrics`` and ``audit``: both off (nothing
observes the data plane: no record is built), metrics on (``metrics.listen`` set: every call is
watched, one :class:`~app.observe.records.McpRequestRecord` is built and counted) and metrics and
audit on (the record is also appended to the audit queue, drained in batches off the hot path).
The listener itself is not started (the app's lifespan does not run): a scrape is not per-call work. Same method as
bench/policy_cost.py: a warm 2026-07-28 ``tools/call`` with the stdio echo upstream, driven through
the ASGI callable, CPU time of this process per call, alternating rounds, best and median.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observe.request_id import RequestIdGenerator, RequestIdMiddleware
from app.startup_heap import freeze_startup_heap, thaw_startup_heap
from bench.alternating import PICKS, added, summarize
from bench.policy_cost import ROUNDS, App, _round
from proxy.inbound.observed import ObservedExchange
from proxy.wire.exchange import Exchange

METRICS_ON: dict[str, Any] = {"listen": "127.0.0.1:9464"}  # never bound here: no lifespan


VARIANTS: dict[str, dict[str, Any]] = {
    "off": {"audit": {"enabled": False}},
    "metrics": {"metrics": METRICS_ON, "audit": {"enabled": False}},
    # the queue is drained by the lifespan, which does not run here: big enough never to overflow
    "metrics+audit": {"metrics": METRICS_ON, "audit": {"queue_size": 1_000_000}},
}


async def measure(calls: int) -> dict[str, float]:
    apps = {name: App(Path(tempfile.mkdtemp()), None, **sections) for name, sections in VARIANTS.items()}
    assert not apps["off"].runtime.events.observes_mcp and apps["metrics"].runtime.events.observes_mcp
    rounds: dict[str, list[float]] = {name: [] for name in apps}
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.gateway.running())
            for _ in range(50):  # start the child, verify and cache the token
                await app.call()
        freeze_startup_heap()  # as the lifespan does before serving (it does not run here)
        names = list(apps)
        for index in range(ROUNDS):  # alternating, rotating which goes first
            for name in names[index % len(names) :] + names[: index % len(names)]:
                rounds[name].append(await _round(apps[name], calls))
        counted = {f"{name} python calls": await _python_calls(app) for name, app in apps.items()}
    thaw_startup_heap()
    for app in apps.values():
        app.runtime.close()
    result = summarize(rounds)
    result |= counted
    result["producer"] = await producer_cost(apps["metrics"])
    result["producer+audit"] = await producer_cost(apps["metrics+audit"])
    return result | await request_id_cost()


async def _python_calls(app: App, calls: int = 200) -> float:
    """Python function calls per warm ``tools/call`` (cProfile's count): exact, whatever the machine's load."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        await app.call()
    profile.disable()
    return float(pstats.Stats(profile).total_calls) / calls  # type: ignore[attr-defined]


async def producer_cost(app: App, exchanges: int = 20_000) -> float:
    """What observing adds to one exchange, alone: the wrapped ``receive`` / ``send`` of a warm
    2026-07-28 ``tools/call`` (a request body, a JSON answer), the record and the metrics observer.
    µs of CPU per exchange, best of the rounds (steadier than the end-to-end difference on a busy machine)."""
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"t"}}}'
    answer = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"t"}]}}'
    headers = [(name.decode(), value.decode()) for name, value in app.headers]
    scope: Scope = {"type": "http", "method": "POST", "headers": app.headers, "client": ("127.0.0.1", 1)}
    events = app.runtime.events

    async def receive() -> Message:
        return {"type": "http.request", "body": body}

    async def send(_message: Message) -> None:
        return None

    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}

    async def one() -> None:
        observed = ObservedExchange(scope, receive, send)
        exchange = Exchange(scope, observed.receive, observed.send, headers, "s")
        exchange.claims, exchange.messages = app.claims, [{"jsonrpc": "2.0", "id": 1, "method": "tools/call"}]
        await exchange.receive()
        await exchange.send(start)
        await exchange.send({"type": "http.response.body", "body": answer})
        observed.report(events, exchange, "2026-07-28", decisions=None)

    async def per_exchange() -> float:
        started = time.process_time()
        for _ in range(exchanges):
            await one()
        return (time.process_time() - started) / exchanges * 1e6

    return min([await per_exchange() for _ in range(ROUNDS // 3)])


async def request_id_cost(requests: int = 20_000) -> dict[str, float]:
    """The request-ID middleware around a trivial ASGI app (a trusted proxy's header checked and kept), and
    generating one ID, against ``os.urandom(12).hex()``: µs of CPU, best of the rounds."""

    async def bare(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    wrapped = RequestIdMiddleware(bare, trusted_proxies=["10.0.0.0/8"])
    scope: Scope = {"type": "http", "headers": [(b"x-request-id", b"edge-4711")], "client": ("10.1.2.3", 1)}

    async def per_request(app: ASGIApp) -> float:
        started = time.process_time()
        for _ in range(requests):
            await app(dict(scope), receive, send)
        return (time.process_time() - started) / requests * 1e6

    plain = min([await per_request(bare) for _ in range(ROUNDS // 3)])
    middleware = min([await per_request(wrapped) for _ in range(ROUNDS // 3)])
    generate = RequestIdGenerator()
    return {
        "request id middleware": middleware - plain,
        "request id generate": _best(generate),
        "urandom hex": _best(lambda: os.urandom(12).hex()),
    }


def _best(work: Callable[[], object], number: int = 100_000) -> float:
    return min(timeit.repeat(work, timer=time.process_time, number=number, repeat=ROUNDS // 3)) / number * 1e6


def report_lines(result: dict[str, float]) -> list[str]:
    """Markdown lines for ``make bench``'s report (bench/run.py)."""
    lines = [
        f"Warm 2026-07-28 `tools/call` through the app's ASGI callable, stdio echo upstream, CPU of Portico's "
        f"process per call, {ROUNDS} alternating rounds (target, issue #18: metrics and audit on within +10 % "
        "of both off).",
        "",
        "| rounds | both off | metrics on | added | metrics + audit on | added |",
        "|---|---|---|---|---|---|",
    ]
    for how in PICKS:
        off, metrics, both = (result[f"{name} {how}"] for name in VARIANTS)
        lines.append(
            f"| {how} | {off:.1f} µs | {metrics:.1f} µs | {added(off, metrics)} | {both:.1f} µs | {added(off, both)} |"
        )
    off_calls = result["off python calls"]
    lines += [
        "",
        "Python function calls per call (exact, unlike the CPU times on a shared machine): "
        + ", ".join(_calls_text(name, result[f"{name} python calls"], off_calls) for name in VARIANTS)
        + ".",
        "",
        f"Observing alone (wrapped receive/send, the record, the observers; no upstream, no app): "
        f"{result['producer']:.1f} µs per exchange with metrics, {result['producer+audit']:.1f} µs with metrics "
        f"and audit — {result['producer'] / result['off median'] * 100:.1f} % and "
        f"{result['producer+audit'] / result['off median'] * 100:.1f} % of the median call with both off.",
        "",
        f"Request IDs (on in both columns above): the middleware adds {result['request id middleware']:.2f} µs "
        f"per request; generating one ID costs {result['request id generate']:.2f} µs "
        f"(`os.urandom(12).hex()`: {result['urandom hex']:.2f} µs).",
    ]
    return lines


def _calls_text(name: str, calls: float, off: float) -> str:
    return f"{name} {calls:.0f} ({(calls - off) / off * 100:+.1f} %)"


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print("\n".join(report_lines(asyncio.run(measure(calls)))))


if __name__ == "__main__":
    main()
