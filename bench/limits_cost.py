"""What rate limits cost a warm proxied ``tools/call``: ``python -m bench.limits_cost [CALLS]`` (and
``make bench``'s ``limits`` case).

Five in-process Portico apps, identical (``bench/echo_server.py stdio`` behind ``/s/mcp``, no policy)
but for ``limits`` / ``redis``: none (nothing installed); one rule on another tool (the guard is
installed, the call matches nothing: a local lookup); one rule on ``echo`` in process; the same
rule in a Redis this benchmark starts (``/usr/bin/redis-server`` on a free loopback port; skipped
without it), exact (``limits.lease: off``: one ``EVALSHA`` per call) and leased (the default: one
``EVALSHA`` per 16 calls, app/limits/lease.py). Rates are high enough that nothing is refused.
Measured as bench/policy_cost.py does: alternating rounds, CPU time of this process per call (the
Redis round trip's waiting is not CPU; see the wall-clock line). Then one check alone
(``Limiter.take``), wall clock, per store.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.alternating import PICKS, added, summarize
from bench.policy_cost import ROUNDS, App, _round
from proxy.limits.guard import LimitGuard

REDIS_SERVER = "/usr/bin/redis-server"
ECHO_RULE = {"name": "echo", "key": "user+tool", "servers": ["s"], "tools": ["echo"], "rate": "1000000/second"}
OTHER_RULE = {**ECHO_RULE, "name": "other", "tools": ["write_*"]}


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A throw-away redis-server's URL, or None when the binary is missing."""
    if shutil.which(REDIS_SERVER) is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def measure(calls: int) -> dict[str, float]:
    with redis_server() as redis_url:
        variants: dict[str, dict[str, Any]] = {
            "off": {},
            "nomatch": {"limits": {"rules": [OTHER_RULE]}},
            "memory": {"limits": {"rules": [ECHO_RULE]}},
        }
        if redis_url is not None:
            redis = {"url": redis_url, "timeout_ms": 1000}
            variants["redis"] = {"limits": {"rules": [ECHO_RULE], "lease": "off"}, "redis": redis}
            variants["leased"] = {"limits": {"rules": [ECHO_RULE]}, "redis": {**redis, "key_prefix": "leased:"}}
        apps = {name: App(Path(tempfile.mkdtemp()), None, **sections) for name, sections in variants.items()}
        assert not isinstance(apps["off"].gateway.backends["s"], LimitGuard)
        assert all(isinstance(app.gateway.backends["s"], LimitGuard) for name, app in apps.items() if name != "off")
        rounds: dict[str, list[float]] = {name: [] for name in apps}
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.gateway.running())
                for _ in range(50):  # start the child, verify and cache the token, load the script
                    await app.call()
            names = list(apps)
            for index in range(ROUNDS):  # alternating, rotating which goes first
                shift = index % len(names)
                for name in names[shift:] + names[:shift]:
                    rounds[name].append(await _round(apps[name], calls))
            result = summarize(rounds)
            for name in ("memory", "redis", "leased"):
                if name in apps:
                    result[f"{name} check"] = await _check_alone(apps[name])
        for app in apps.values():
            app.runtime.close()
    return result


async def _check_alone(app: App) -> float:
    """Wall-clock µs of one ``Limiter.take`` for the echo rule's bucket (best of ROUNDS × 500)."""
    limiter = app.gateway.limiter
    limits = limiter.for_server("s")
    assert limits is not None
    from app.limits.rules import Identity

    items = limits.items("tools/call", "echo", Identity("bench-user", "bench-client", None), limiter.clock.now())
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(500):
            assert await limiter.take(items) is None
        best = min(best, (time.perf_counter() - started) / 500 * 1e6)
    return best


def report_lines(result: dict[str, float]) -> list[str]:
    """Markdown lines for ``make bench``'s report (bench/run.py)."""
    redis = "redis best" in result
    header = "| rounds | no rules | rule on another tool | added | rule on echo, in process | added |"
    header += " rule on echo, Redis exact | added | rule on echo, Redis leased | added |" if redis else ""
    lines = [
        f"Warm 2026-07-28 `tools/call` through the app's ASGI callable, stdio echo upstream, CPU of Portico's "
        f"process per call, {ROUNDS} alternating rounds. One rule (`user+tool`, never refusing).",
        "",
        header,
        "|---|---|---|---|---|---|" + ("---|---|---|---|" if redis else ""),
    ]
    for how in PICKS:
        off, nomatch, memory = (result[f"{name} {how}"] for name in ("off", "nomatch", "memory"))
        row = f"| {how} | {off:.1f} µs | {nomatch:.1f} µs | {added(off, nomatch)} | {memory:.1f} µs |"
        row += f" {added(off, memory)} |"
        if redis:
            for name in ("redis", "leased"):
                row += f" {result[f'{name} {how}']:.1f} µs | {added(off, result[f'{name} {how}'])} |"
        lines.append(row)
    lines += ["", f"One check alone, wall clock: in process {result['memory check']:.1f} µs"]
    if redis:
        lines[-1] += f", Redis exact (loopback, one EVALSHA) {result['redis check']:.1f} µs"
        lines[-1] += f", Redis leased (one EVALSHA per 16) {result['leased check']:.1f} µs"
    else:
        lines[-1] += " (no redis-server: the Redis variant was skipped)"
    lines[-1] += "."
    return lines


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print("\n".join(report_lines(asyncio.run(measure(calls)))))


if __name__ == "__main__":
    main()
