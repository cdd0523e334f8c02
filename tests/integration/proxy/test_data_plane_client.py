"""The data plane's HTTP client (``proxy.upstream.http_client.DataPlaneClient``) against a scripted raw HTTP server.

Real loopback sockets; each test's server answers with exactly the bytes the case needs, and
records the requests it received.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from app.config.schema import GatewayConfig
from proxy.upstream.http_client import (
    DataPlaneClient,
    UpstreamConnectError,
    UpstreamHttpError,
    UpstreamReadTimeoutError,
)

pytestmark = pytest.mark.anyio

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[bytes]], Awaitable[None]]


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


@asynccontextmanager
async def upstream(script: Script) -> AsyncIterator[tuple[str, list[bytes]]]:
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer, heads)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/mcp", heads


@pytest.fixture
async def client() -> AsyncIterator[DataPlaneClient]:
    async with DataPlaneClient(GatewayConfig()) as data_plane:
        yield data_plane


async def send(client: DataPlaneClient, url: str, read_timeout: float = 10.0) -> tuple[int, bytes]:
    response = await client.send(
        "POST",
        url,
        headers={"content-type": "application/json"},
        body=b"{}",
        connect_timeout=5,
        read_timeout=read_timeout,
    )
    try:
        return response.status_code, b"".join([chunk async for chunk in response.chunks()])
    finally:
        await response.aclose()


async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]) -> None:
    """Keep-alive: answer every request with a 302 that sets a cookie."""
    while True:
        head = await read_head(reader)
        heads.append(head)
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\nset-cookie: sid=user-a\r\n"
            b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        )
        await writer.drain()


async def test_redirects_are_returned_not_followed_and_cookies_are_never_sent_back(client: DataPlaneClient) -> None:
    """Our choice: an upstream URL is configuration; one client serves every user, so no cookie jar."""
    async with upstream(answer_each) as (url, heads):
        assert await send(client, url) == (302, b"{}")
        assert await send(client, url) == (302, b"{}")
    assert len(heads) == 2
    assert all(b"cookie" not in head.lower() for head in heads)


async def test_the_body_streams_before_the_upstream_finishes(client: DataPlaneClient) -> None:
    """Our choice: nothing is buffered in the client (SSE relay depends on it)."""
    release = asyncio.Event()

    async def two_parts(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]) -> None:
        heads.append(await read_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"6\r\nfirst\n\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
        await writer.drain()

    async with upstream(two_parts) as (url, _heads):
        response = await client.send("GET", url, headers={}, body=None, connect_timeout=5, read_timeout=10)
        chunks = response.chunks()
        assert await anext(chunks) == b"first\n"
        release.set()
        assert b"".join([chunk async for chunk in chunks]) == b"second\n"
        await response.aclose()


async def test_a_silent_upstream_is_a_read_timeout(client: DataPlaneClient) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]) -> None:
        heads.append(await read_head(reader))
        await asyncio.sleep(30)

    async with upstream(silent) as (url, _heads):
        with pytest.raises(UpstreamReadTimeoutError):
            await send(client, url, read_timeout=0.2)


async def test_a_connection_cut_mid_body_is_an_upstream_error(client: DataPlaneClient) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]) -> None:
        heads.append(await read_head(reader))
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"partial')
        await writer.drain()

    async with upstream(cut) as (url, _heads):
        with pytest.raises(UpstreamHttpError) as raised:
            await send(client, url)
    assert not isinstance(raised.value, UpstreamConnectError | UpstreamReadTimeoutError)
    assert "127.0.0.1" not in str(raised.value)


async def test_a_refused_connection_is_a_connect_error(client: DataPlaneClient) -> None:
    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]) -> None:
        return

    async with upstream(nothing) as (url, _heads):
        pass  # the port is closed again: nothing listens there now
    with pytest.raises(UpstreamConnectError):
        await send(client, url)
