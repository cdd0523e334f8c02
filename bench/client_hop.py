"""Client-side cost of one upstream hop, per HTTP client: ``python -m bench.client_hop [CALLS]``.

Starts the echo upstream, then sends ``CALLS`` sequential ``tools/call`` POSTs from this process
with each candidate data-plane client exactly as the relay uses it (streamed response, body read
in chunks, pooled keep-alive connection, uvloop) and prints the CPU time this process spent per
call and the median wall time. The candidates are interleaved in rounds so machine load hits each
alike. Used to choose the data plane's client (docs/adr/0004-data-plane-http-client.md).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import httpx2
import uvloop

from bench.run import ECHO, free_port, started

HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
    "accept-encoding": "identity",
}


def body(index: int) -> bytes:
    params = {"name": "echo", "arguments": {"text": f"call-{index}"}, "_meta": {}}
    return json.dumps({"jsonrpc": "2.0", "id": index, "method": "tools/call", "params": params}).encode()


Call = Callable[[int], Awaitable[bytes]]


async def with_httpx2(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0), follow_redirects=False, trust_env=False)

    async def call(index: int) -> bytes:
        request = client.build_request("POST", url, headers=HEADERS, content=body(index))
        response = await client.send(request, stream=True)
        try:
            return b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()

    return call, client.aclose


async def with_aiohttp(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=30),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )

    async def call(index: int) -> bytes:
        async with session.request("POST", url, headers=HEADERS, data=body(index), allow_redirects=False) as response:
            return b"".join([chunk async for chunk in response.content.iter_any()])

    return call, session.close


class _AiohttpStream(httpx2.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_any():
            yield chunk

    async def aclose(self) -> None:
        self._response.release()


class _AiohttpTransport(httpx2.AsyncBaseTransport):
    """The smallest httpx2 transport over an aiohttp session (what "httpx2 over aiohttp" costs)."""

    def __init__(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar())

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._session.request(
            request.method,
            str(request.url),
            headers=list(request.headers.multi_items()),
            data=request.content,
            allow_redirects=False,
        )
        return httpx2.Response(response.status, headers=list(response.headers.items()), stream=_AiohttpStream(response))

    async def aclose(self) -> None:
        await self._session.close()


async def with_httpx2_over_aiohttp(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = httpx2.AsyncClient(transport=_AiohttpTransport(), follow_redirects=False, trust_env=False)

    async def call(index: int) -> bytes:
        request = client.build_request("POST", url, headers=HEADERS, content=body(index))
        response = await client.send(request, stream=True)
        try:
            return b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()

    return call, client.aclose


async def measure(url: str, calls: int, rounds: int) -> dict[str, tuple[float, float]]:
    clients = {
        "httpx2": await with_httpx2(url),
        "httpx2 over aiohttp": await with_httpx2_over_aiohttp(url),
        "aiohttp": await with_aiohttp(url),
    }
    cpu: dict[str, list[float]] = {name: [] for name in clients}
    wall: dict[str, list[float]] = {name: [] for name in clients}
    for call, _close in clients.values():
        for index in range(200):  # warm-up: connections, caches
            await call(index)
    for _ in range(rounds):
        for name, (call, _close) in clients.items():
            for index in range(calls // rounds):
                before_cpu, before = time.process_time(), time.perf_counter()
                answer = await call(index)
                wall[name].append(time.perf_counter() - before)
                cpu[name].append(time.process_time() - before_cpu)
                assert b'"result"' in answer, answer
    for _call, close in clients.values():
        await close()
    return {name: (sum(cpu[name]) * 1000 / len(cpu[name]), statistics.median(wall[name]) * 1000) for name in clients}


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    port = free_port()
    with started([sys.executable, str(ECHO), "http", str(port)], port):
        results = uvloop.run(measure(f"http://127.0.0.1:{port}/mcp", calls, rounds=6))
    for name, (cpu_ms, p50_ms) in results.items():
        print(f"{name:<20} client CPU {cpu_ms:.3f} ms/call, p50 {p50_ms:.3f} ms ({calls} calls)")


if __name__ == "__main__":
    main()
