"""Pure-ASGI middleware (no response buffering, so proxied streams stay streams).

- :class:`SecurityHeadersMiddleware`: baseline security headers on every response.
- :class:`BodyLimitMiddleware`: refuses bodies over ``limits.max_body_bytes`` with 413.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
HTML_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self' http: https:; base-uri 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
_BASELINE = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items())


def add_security_headers(message: Message, *, https: bool) -> None:
    """Give an ``http.response.start`` message the baseline headers it does not set itself (in place)."""
    headers: list[tuple[bytes, bytes]] = list(message.get("headers") or ())
    present = {name.lower() for name, _ in headers}
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    headers += [(name, value) for name, value in _BASELINE if name not in present]
    if b"content-security-policy" not in present:
        csp = HTML_CSP if content_type.startswith(b"text/html") else API_CSP
        headers.append((b"content-security-policy", csp.encode()))
    if https and _HSTS[0] not in present:
        headers.append(_HSTS)
    message["headers"] = headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(message, https=self.https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; rendered as 413 by app.errors."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    """413 when Content-Length or the streamed body exceeds ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_too_large(scope, self.max_body_bytes):
            await reject_too_large(send, self.max_body_bytes)
            return
        limited_receive = limited(receive, self.max_body_bytes)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await reject_too_large(send, self.max_body_bytes)


def declared_too_large(scope: Scope, limit: int) -> bool:
    """Whether the request's ``Content-Length`` already exceeds ``limit`` bytes."""
    declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
    return declared is not None and declared.isdigit() and int(declared) > limit


def limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLargeError` once the streamed body passes ``limit`` bytes."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLargeError(limit)
        return message

    return limited_receive


async def reject_too_large(send: Send, limit: int) -> None:
    """The 413 answer (RFC 9110 §15.5.14) with Portico's ``{"error", "error_description"}`` body."""
    body = json.dumps(
        {"error": "request_too_large", "error_description": f"request body exceeds {limit} bytes"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
