"""The producer of :class:`~app.observe.records.McpRequestRecord` on ``/<server>/mcp`` (both eras, batches).

Used only when :attr:`app.observe.bus.EventBus.observes_mcp` (else nothing here runs). It wraps the
exchange's ``receive`` (the body, counted and kept for the request's method, id and target) and
``send`` (status, bytes, and the JSON-RPC errors answered: a JSON body or the SSE ``message``
events are decoded only when they contain ``"error"`` — results are never parsed). When the
exchange ends, one record per JSON-RPC message of the POSTed body (a batch gives one per member)
goes to the bus. A request refused before its body was read (401, 403, 404, 406 …) gives one
record with ``method`` ``""``. GET streams and DELETE are not requests and give none.
docs/observability.md §Metrics; docs/adr/0017-metrics-and-request-ids.md.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from app.observe.bus import EventBus
from app.observe.records import Era, McpRequestRecord
from app.observe.request_id import current_request_id
from app.policy.access import ServerAccess, TargetKind
from proxy.limits.errors import RATE_LIMITED
from proxy.policy.decisions import PolicyDecisions
from proxy.wire.errors import POLICY_DENIED
from proxy.wire.exchange import Exchange

_ERROR = b'"error"'
_MAX_TAIL = 1 << 20  # an SSE event longer than this is not scanned for an error (never parsed anyway)
_NO_ID = object()
TARGET_KINDS: dict[str, TargetKind] = {
    "tools/call": "tool",
    "resources/read": "resource",
    "resources/subscribe": "resource",
    "resources/unsubscribe": "resource",
    "prompts/get": "prompt",
}


class ObservedExchange:
    """Counts and watches one exchange; :meth:`report` emits its records."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, *, transport: str = "streamable-http") -> None:
        self.started_at = time.time()
        self._start = time.perf_counter()
        self.scope = scope
        self.transport = transport
        self.body: list[bytes] = []  # the request body's chunks (joined only if never parsed by the handler)
        self.bytes_in = 0
        self.status = 0
        self.bytes_out = 0
        self.errors: dict[object, int] = {}
        self.limits: dict[object, str] = {}  # -32014 answers: the limit's name
        self._is_sse = False
        self._status_fixed = False
        self._json: list[bytes] = []
        self._tail = b""
        self._receive = receive
        self._send = send

    def watch(self, exchange: Exchange) -> None:
        """Watch what the backend answers on ``exchange`` (legacy SSE: an in-process exchange per message,
        whose client saw ``202 Accepted``)."""
        self.status, self._status_fixed = 202, True
        self._send = exchange.send
        exchange.send = self.send

    def note_answer(self, answer: dict[str, Any]) -> None:
        """A JSON-RPC answer written without going through :meth:`send` (Portico's own, on a legacy stream)."""
        if isinstance(error := answer.get("error"), dict) and isinstance(code := error.get("code"), int):
            self._note_error(_key(answer.get("id")), code, error)

    def _note_error(self, key: object, code: int, error: dict[str, Any]) -> None:
        self.errors[key] = code
        if code == RATE_LIMITED and isinstance(data := error.get("data"), dict) and isinstance(data.get("limit"), str):
            self.limits[key] = data["limit"]  # the rule's name, for the record

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            self.body.append(chunk)
            self.bytes_in += len(chunk)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if not self._status_fixed:
                self.status = message["status"]
            content_type = next((v for n, v in message.get("headers", ()) if n.lower() == b"content-type"), b"")
            self._is_sse = content_type.startswith(b"text/event-stream")
        elif message["type"] == "http.response.body":
            chunk: bytes = message.get("body", b"")
            self.bytes_out += len(chunk)
            if self._is_sse:
                self._scan_sse(chunk)
            elif chunk:
                self._json.append(chunk)
        await self._send(message)

    def _scan_sse(self, chunk: bytes) -> None:
        data = self._tail + chunk
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        cut = data.rfind(b"\n\n")
        if cut < 0:
            self._tail = data if len(data) < _MAX_TAIL else b""
            return
        complete, self._tail = data[:cut], data[cut + 2 :]
        if _ERROR not in complete:
            return
        for event in complete.split(b"\n\n"):
            if _ERROR in event:
                lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
                self._note_errors(b"\n".join(lines))

    def _note_errors(self, payload: bytes) -> None:
        try:
            decoded = json.loads(payload)
        except ValueError:
            return
        for item in decoded if isinstance(decoded, list) else [decoded]:
            if isinstance(item, dict) and isinstance(error := item.get("error"), dict):
                code = error.get("code")
                if isinstance(code, int):
                    self._note_error(_key(item.get("id")), code, error)

    def report(
        self,
        events: EventBus,
        exchange: Exchange,
        era: Era,
        *,
        decisions: PolicyDecisions | None,
        mcp_session_id: str | None = None,
    ) -> None:
        """Emit one record per JSON-RPC message of the body (or one for a request refused before it)."""
        if self._json:
            body = self._json[0] if len(self._json) == 1 else b"".join(self._json)
            if _ERROR in body and len(body) <= _MAX_TAIL:
                self._note_errors(body)
        duration = time.perf_counter() - self._start
        messages = exchange.messages or _messages(b"".join(self.body)) or [{}]
        claims = exchange.claims
        client = self.scope.get("client")
        share_in = self.bytes_in // len(messages)
        share_out = self.bytes_out // len(messages)
        for message in messages:
            record = McpRequestRecord(
                started_at=self.started_at,
                request_id=current_request_id() or "",
                server=exchange.server,
                method=_str(message.get("method")) or "",
                era=era,
                transport="sse" if self.transport == "sse" else "streamable-http",
                target=_target(message.get("params")),
                mcp_session_id=mcp_session_id or exchange.header("mcp-session-id"),
                client_address=client[0] if client else None,
                http_status=self.status or 500,
                duration=duration,
                upstream_duration=exchange.upstream_duration,
                bytes_in=share_in,
                bytes_out=share_out,
            )
            if claims is not None:
                record.subject, record.client_id, record.email = claims.subject, claims.client_id, claims.email
            if events.wants_arguments:  # audit.include_arguments: the audit redacts before storing
                record.arguments = _arguments(message.get("params"))
            self._outcome(record, message)
            if decisions is not None and claims is not None and record.method:
                _policy(record, decisions.cached(claims.jwt_id, exchange.server))
            events.mcp_request(record)

    def _outcome(self, record: McpRequestRecord, message: dict[str, Any]) -> None:
        identifier = _key(message.get("id", _NO_ID))
        code = self.errors.get(identifier)
        if code is None and record.http_status >= 400:
            code = self.errors.get(None)
        if code is not None:
            record.outcome, record.error_code = "error", code
            record.limit = self.limits.get(identifier) if code == RATE_LIMITED else None
        elif record.http_status >= 400:
            record.outcome = "http_error"


def _policy(record: McpRequestRecord, access: ServerAccess | None) -> None:
    """The policy's part: ``denied`` when answered -32012, else ``allowed``; the deciding rule's key
    from the token's cached decision (None when the request never reached the guard)."""
    record.policy = "denied" if record.error_code == POLICY_DENIED else "allowed"
    if access is None:
        return
    kind = TARGET_KINDS.get(record.method)
    record.policy_rule = access.rule(kind, record.target) if kind and record.target else access.usable_rule


def _key(identifier: object) -> object:
    """JSON-RPC ids compare by value and type (``1`` is not ``"1"``)."""
    return (type(identifier).__name__, identifier) if identifier is not None else None


def _messages(body: bytes) -> list[dict[str, Any]]:
    if not body:
        return []
    try:
        decoded = json.loads(body)
    except ValueError:
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, dict)]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _arguments(params: object) -> dict[str, object] | None:
    """``params.arguments`` of a ``tools/call`` or ``prompts/get`` (an object), else None."""
    arguments = params.get("arguments") if isinstance(params, dict) else None
    return arguments if isinstance(arguments, dict) else None


def _target(params: object) -> str | None:
    """The tool / prompt ``name`` or resource ``uri`` a request names (never its arguments)."""
    if not isinstance(params, dict):
        return None
    return _str(params.get("name")) or _str(params.get("uri"))
