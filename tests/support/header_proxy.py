"""A tiny reverse proxy (raw ASGI on uvicorn, httpx2 streaming) that adds headers to every request it forwards.

Test code only: the MCP conformance suite's ``server`` command sends no ``Authorization`` header and has no flag
for one, so the suite talks to this proxy and the proxy adds ``Authorization: Bearer <token>`` on the way to Portico.
The token is chosen by path prefix (``/<server>/``), since each Portico route is its own protected resource.

With ``forwarded_for=True`` it also behaves like a TLS-terminating reverse proxy configured as docs/deploy.md says
(nginx's ``$proxy_add_x_forwarded_for``, Caddy): it appends the peer it saw to ``X-Forwarded-For`` and sets
``X-Forwarded-Proto: https``.

``Host`` and ``Origin`` are rewritten only when they name the proxy itself, to Portico's own (in a deployment the
proxy serves at Portico's ``public_url``, so clients send exactly those); any other Host or Origin (a DNS-rebinding
probe) reaches Portico unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import uvicorn

from tests.support.processes import HOST, free_port

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length"}
)


class HeaderInjectingProxy:
    """ASGI app forwarding to ``target`` (an origin) and adding ``headers_for(path)`` to each request."""

    def __init__(
        self,
        target: str,
        headers_for: Callable[[str], Mapping[str, str]],
        own_hosts: set[str],
        *,
        forwarded_for: bool = False,
    ) -> None:
        self.target = target.rstrip("/")
        self.forwarded_for = forwarded_for
        self.target_host = urlsplit(target).netloc
        self.headers_for = headers_for
        self.own_hosts = own_hosts
        self.http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=None), follow_redirects=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        headers = self._forwarded_headers(scope)
        url = self.target + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        request = self.http.build_request(scope["method"], url, headers=headers, content=body)
        response = await self.http.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k, v) for k, v in response.headers.raw if k.decode().lower() not in HOP_BY_HOP],
                }
            )
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        finally:
            await response.aclose()

    def _forwarded_headers(self, scope: Scope) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        for raw_name, raw_value in scope["headers"]:
            # RFC 9110 §5.5: a field value excludes leading and trailing whitespace (uvicorn keeps it, h11 refuses it).
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1").strip(" \t")
            if name in HOP_BY_HOP or name == "authorization":
                continue
            if name == "host" and value in self.own_hosts:
                value = self.target_host
            if name == "origin" and urlsplit(value).netloc in self.own_hosts:
                value = self.target
            headers.append((name, value))
        headers.extend(self.headers_for(scope["path"]).items())
        if self.forwarded_for:
            chain = [value for name, value in headers if name == "x-forwarded-for"]
            headers = [(k, v) for k, v in headers if k not in ("x-forwarded-for", "x-forwarded-proto")]
            headers += [("x-forwarded-for", ", ".join([*chain, scope["client"][0]])), ("x-forwarded-proto", "https")]
        return headers


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _cancel_on_disconnect(receive: Receive, cancel_scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    cancel_scope.cancel()


@contextlib.asynccontextmanager
async def serve_header_proxy(
    target: str, headers_for: Callable[[str], Mapping[str, str]], *, forwarded_for: bool = False
) -> AsyncIterator[str]:
    """Run the proxy on a free loopback port in this event loop; yields its ``http://localhost:PORT`` origin."""
    port = free_port()
    own_hosts = {f"localhost:{port}", f"{HOST}:{port}"}
    app = HeaderInjectingProxy(target, headers_for, own_hosts, forwarded_for=forwarded_for)
    config = uvicorn.Config(
        app, host=HOST, port=port, log_config=None, lifespan="off", timeout_graceful_shutdown=1, proxy_headers=False
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await anyio.sleep(0.02)
        try:
            yield f"http://localhost:{port}"
        finally:
            server.should_exit = True
            await app.http.aclose()
