"""Micro-benchmark of the per-call cost of the open-exchange registry (ADR 0012): ``python -m bench.open_exchanges``.

Each proxied call on ``/<name>/mcp`` is registered as an :class:`~proxy.inbound.open_exchanges.OpenExchange`
and reads and writes through its wrapped ``receive`` / ``send``. This times what that adds to one
call (register, one body ``receive``, a JSON answer's two ``send`` messages, release, finish) against
the same ASGI traffic unwrapped, on uvloop like ``portico serve``; best of 15 repeats of 20,000 calls,
in µs per call.
"""

from __future__ import annotations

import time

import uvloop
from starlette.types import Message

from proxy.inbound.open_exchanges import Kind, OpenExchange, OpenExchanges

CALLS = 20_000
REPEATS = 15
BODY: Message = {"type": "http.request", "body": b'{"jsonrpc":"2.0"}', "more_body": False}
START: Message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
END: Message = {"type": "http.response.body", "body": b"{}"}


async def receive() -> Message:
    return BODY


async def send(_message: Message) -> None:
    return None


async def bare() -> None:
    await receive()
    await send(START)
    await send(END)


async def registered(exchanges: OpenExchanges) -> None:
    opened = exchanges.open(OpenExchange(Kind.CALL, "s", "jti", 2**40, receive, send))
    try:
        await opened.receive()
        await opened.send(START)
        await opened.send(END)
    finally:
        exchanges.release(opened)
        await opened.finish(1, 10.0)


async def best_of(work: str, exchanges: OpenExchanges) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(CALLS):
            await (bare() if work == "bare" else registered(exchanges))
        best = min(best, time.perf_counter() - started)
    return best / CALLS * 1e6


async def main() -> None:
    exchanges = OpenExchanges(shutdown_grace=10.0)
    plain = await best_of("bare", exchanges)
    wrapped = await best_of("registered", exchanges)
    print(f"bare ASGI traffic of one call:      {plain:.2f} µs")
    print(f"registered (OpenExchange) traffic:  {wrapped:.2f} µs  (+{wrapped - plain:.2f} µs per call)")


if __name__ == "__main__":
    uvloop.run(main())
