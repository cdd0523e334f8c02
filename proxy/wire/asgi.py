"""Pure-ASGI plumbing for the data plane: headers, bodies, JSON answers, SSE streams, disconnects.

The MCP routes bypass FastAPI's request parsing and Starlette's response classes on purpose:
each request is read once, and every response — a JSON body or an event stream — is written
straight to the ASGI ``send`` so nothing is buffered between upstream and client.

Each response carries every header name once: the framing headers Portico writes itself
(``Content-Type``, ``Content-Length``, the SSE set) win over the same names among the extra
headers (e.g. relayed from an upstream), which are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from starlette.types import Receive, Scope, Send

JSON_CONTENT_TYPE: Final = "application/json"
SSE_CONTENT_TYPE: Final = "text/event-stream"
SSE_HEADERS: Final = (
    (b"content-type", SSE_CONTENT_TYPE.encode()),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
)


def request_headers(scope: Scope) -> list[tuple[str, str]]:
    """The request's header lines, names lower-cased by the ASGI server, values latin-1 decoded."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


def header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    """Every value of header ``name`` (lower-case), in order."""
    return [value for key, value in headers if key == name]


def accepts(headers: list[tuple[str, str]]) -> tuple[bool, bool]:
    """``(json, sse)`` acceptability of the ``Accept`` header, with RFC 9110 wildcards (as the SDK)."""
    accept = ",".join(value for key, value in headers if key == "accept")
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    wildcard = "*/*" in types
    return (
        wildcard or bool(types & {JSON_CONTENT_TYPE, "application/*"}),
        wildcard or bool(types & {SSE_CONTENT_TYPE, "text/*"}),
    )


def is_json_content(headers: list[tuple[str, str]]) -> bool:
    content_type = first_header(headers, "content-type") or ""
    return content_type.split(";")[0].strip().lower() == JSON_CONTENT_TYPE


async def read_body(receive: Receive) -> bytes:
    """The whole request body (its size is bounded by ``BodyLimitMiddleware``: 413 beyond it)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone (call only after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _with_extra(own: list[tuple[bytes, bytes]], headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    """``own`` then ``headers`` (names lower-cased), leaving out extra names ``own`` already has."""
    taken = {name for name, _ in own}
    extra: list[tuple[bytes, bytes]] = []
    for name, value in (headers or {}).items():
        raw_name = name.lower().encode("latin-1")
        if raw_name not in taken:
            taken.add(raw_name)
            extra.append((raw_name, value.encode("latin-1")))
    return [*own, *extra]


async def send_json(
    send: Send,
    status: int,
    body: object,
    headers: Mapping[str, str] | None = None,
    *,
    content_type: str = JSON_CONTENT_TYPE,
) -> None:
    """A complete response, ``application/json`` unless ``content_type`` says otherwise (a relayed
    upstream body); ``body`` is JSON-encoded unless already bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    own = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": _with_extra(own, headers)})
    await send({"type": "http.response.body", "body": data})


async def send_empty(send: Send, status: int, headers: Mapping[str, str] | None = None) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _with_extra([(b"content-length", b"0")], headers)}
    )
    await send({"type": "http.response.body", "body": b""})


async def start_sse(send: Send, headers: Mapping[str, str] | None = None, status: int = 200) -> None:
    """Commit a ``text/event-stream`` response (its own framing headers win); write frames with :func:`send_chunk`."""
    await send({"type": "http.response.start", "status": status, "headers": _with_extra(list(SSE_HEADERS), headers)})


async def send_chunk(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def end_body(send: Send) -> None:
    await send({"type": "http.response.body", "body": b"", "more_body": False})
