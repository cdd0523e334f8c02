"""What a request deadline costs a warm proxied call: ``python -m bench.deadline_cost``.

Times :func:`proxy.wire.delivery.deliver` answering one quick request (its response already
waiting in the outbox: the JSON answer of a warm ``tools/call``) and a streamed one (three
progress notifications, then the response, over SSE), each without and with a
:class:`~proxy.wire.deadline.RequestDeadline`; then the deadline's own operations. The ASGI
``send``/``receive`` are no-ops, so what is left is Portico's own work. Best of 15 repeats of
5,000 calls (200,000 for the deadline operations), µs of this process's CPU time per call: on
a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import asyncio
import functools
import time
import timeit
from collections.abc import Awaitable, Callable
from typing import Any

from proxy.wire.deadline import DeadlineLimits, RequestDeadline, RequestTimeoutError
from proxy.wire.delivery import deliver
from proxy.wire.exchange import Exchange
from proxy.wire.outbox import Outbox, Outgoing

CALLS = 5_000
MICRO_CALLS = 200_000
REPEATS = 15
LIMITS = DeadlineLimits(300.0, 3600.0, "gateway.request_timeout", "gateway.max_request_duration")
RESPONSE = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "hi"}]}}
PROGRESS = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}


async def _send(_message: Any) -> None:
    return None


async def _receive() -> dict[str, Any]:
    await asyncio.Event().wait()  # the client never leaves
    return {}


async def _expire(_error: RequestTimeoutError) -> None:
    return None


def _exchange() -> Exchange:
    return Exchange({"type": "http", "method": "POST"}, _receive, _send, [], "s", "1")


async def _one_call(*, streamed: bool, with_deadline: bool) -> None:
    outbox = Outbox(256, "bench")
    if streamed:
        for _ in range(3):
            outbox.put(Outgoing(PROGRESS))
    outbox.put(Outgoing(RESPONSE, final=True))
    deadline = RequestDeadline(LIMITS) if with_deadline else None
    await deliver(
        _exchange(),
        outbox,
        modern=False,
        keepalive=15.0,
        headers={},
        deadline=deadline,
        on_expire=_expire if with_deadline else None,
    )


async def _time(call: Callable[[], Awaitable[None]]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(CALLS):
            await call()
        best = min(best, (time.process_time() - started) / CALLS)
    return best * 1e6


async def _deliveries() -> dict[str, float]:
    results = {}
    for streamed in (False, True):
        for with_deadline in (False, True):
            name = f"deliver {'SSE, 3 progress + result' if streamed else 'JSON result'}, deadline {with_deadline}"
            results[name] = await _time(functools.partial(_one_call, streamed=streamed, with_deadline=with_deadline))
    return results


def _micro() -> dict[str, float]:
    deadline = RequestDeadline(LIMITS)
    timers = {
        "RequestDeadline(limits)": lambda: RequestDeadline(LIMITS),
        "deadline.touch()": deadline.touch,
        "deadline.wait(15.0)": lambda: deadline.wait(15.0),
        "deadline.expired()": deadline.expired,
    }
    return {
        name: min(timeit.repeat(timer, timer=time.process_time, number=MICRO_CALLS, repeat=REPEATS)) / MICRO_CALLS * 1e6
        for name, timer in timers.items()
    }


def main() -> None:
    for name, micros in {**asyncio.run(_deliveries()), **_micro()}.items():
        print(f"{name:<50} {micros:8.3f} µs")


if __name__ == "__main__":
    main()
