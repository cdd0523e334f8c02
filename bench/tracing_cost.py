"""What tracing costs a warm proxied ``tools/call``: ``python -m bench.tracing_cost [CALLS]`` (and
``make bench``'s ``tracing`` case).

Two Portico apps in this process (bench/policy_cost.py's ``App``: ``/s/mcp``, stdio echo upstream,
warm 2026-07-28 ``tools/call`` through the ASGI callable): no ``telemetry`` (off), and
``telemetry.endpoint`` set with ``sampling_ratio: 1`` (every call traced: SERVER span, token
check, CLIENT span with ``_meta.traceparent``; a ``BatchSpanProcessor`` exporting over OTLP/HTTP to
a receiver in another process that discards). Tracing's switch is process-wide
(:data:`app.observe.tracing.ON`), so before each round the switch is set for the app measured.
Each figure is the best (and median) round of this process's CPU per call over alternating rounds;
the export thread's CPU is this process's too, so it is counted.

"Off costs nothing": the off path is the ``tracing.ON`` test at each instrumented point (five on
this call), timed alone, against what a no-op tracer would cost instead (the OpenTelemetry API's
``NoOpTracer`` span with its attribute dictionary, four per call).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opentelemetry import trace

from app.observe import tracing
from app.observe.tracing_setup import flush
from bench.alternating import PICKS, added, summarize
from bench.policy_cost import App

ROUNDS = 21
CHECKS_PER_CALL = 5  # endpoint, era, bearer check, message backend relay, request start (warm path)
SPANS_PER_CALL = 4  # what the alternative would open per call: inbound, token, upstream, request start
_SINK = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *args): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@contextmanager
def otlp_sink() -> Iterator[str]:
    """An OTLP/HTTP endpoint in its own process that answers 200 and discards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", _SINK, str(port)])
    try:
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.025)
        yield f"http://127.0.0.1:{port}/v1/traces"
    finally:
        process.terminate()
        process.wait(10)


async def _round(app: App, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await app.call()
    return (time.process_time() - started) / calls * 1e6


async def measure(calls: int) -> dict[str, float]:
    with otlp_sink() as endpoint:
        off = App(Path(tempfile.mkdtemp()), None)
        on = App(Path(tempfile.mkdtemp()), None, telemetry={"endpoint": endpoint, "sampling_ratio": 1.0})
        tracer = tracing._tracer  # the on app's, installed last
        assert tracing.ON
        switches = {"off": None, "on": tracer}
        rounds: dict[str, list[float]] = {"off": [], "on": []}
        async with off.gateway.running(), on.gateway.running():
            for name, app in (("off", off), ("on", on)):
                tracing.switch(switches[name])
                for _ in range(50):  # start the child, verify and cache the token
                    await app.call()
            for index in range(ROUNDS):
                order = (("off", off), ("on", on)) if index % 2 == 0 else (("on", on), ("off", off))
                for name, app in order:
                    tracing.switch(switches[name])
                    rounds[name].append(await _round(app, calls))
        tracing.switch(tracer)
        flush()
        for app in (off, on):
            app.runtime.close()
    result = summarize(rounds)
    tracing.switch(None)
    result["check"] = _flag_check()
    result["noop"] = _noop_span()
    return result


def _flag_check() -> float:
    """One ``if tracing.ON:`` as the instrumented points do it (µs)."""

    def check() -> None:
        if tracing.ON:
            raise AssertionError("tracing is on")

    return min(timeit.repeat(check, timer=time.process_time, number=200_000, repeat=ROUNDS)) / 200_000 * 1e6


def _noop_span() -> float:
    """The alternative: a span from the API's no-op tracer with its attributes, made current (µs)."""
    noop = trace.NoOpTracer()

    def span() -> None:
        attributes = {"mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "network.transport": "tcp"}
        with noop.start_as_current_span("tools/call echo", kind=trace.SpanKind.SERVER, attributes=attributes):
            pass

    return min(timeit.repeat(span, timer=time.process_time, number=50_000, repeat=ROUNDS)) / 50_000 * 1e6


def report_lines(result: dict[str, float]) -> list[str]:
    """Markdown lines for ``make bench``'s report (bench/run.py)."""
    lines = [
        f"Warm 2026-07-28 `tools/call` through the app's ASGI callable, stdio echo upstream, CPU of Portico's "
        f"process per call (export thread included), {ROUNDS} alternating rounds. Reported, no target.",
        "",
        "| rounds | tracing off | on, 100 % sampled | added |",
        "|---|---|---|---|",
    ]
    for how in PICKS:
        off, on = result[f"off {how}"], result[f"on {how}"]
        lines.append(f"| {how} | {off:.1f} µs | {on:.1f} µs | {added(off, on)} |")
    check, noop, off = result["check"], result["noop"], result["off best"]
    lines += [
        "",
        f"Off: {CHECKS_PER_CALL} tests of `tracing.ON` per call, {check * 1000:.0f} ns each = "
        f"{CHECKS_PER_CALL * check:.3f} µs ({CHECKS_PER_CALL * check / off * 100:.3f} % of the call). "
        f"A no-op tracer instead: {noop:.2f} µs per span, {SPANS_PER_CALL * noop:.2f} µs per call "
        f"({SPANS_PER_CALL * noop / off * 100:.2f} %).",
    ]
    return lines


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print("\n".join(report_lines(asyncio.run(measure(calls)))))


if __name__ == "__main__":
    main()
