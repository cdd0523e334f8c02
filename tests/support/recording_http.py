"""A real loopback HTTP(S) server that answers one JSON body to every request and records each request.

For tests of Portico's outgoing HTTP (what a token request carried, which ``Host`` a pinned
connection presented): nothing of the HTTP stack is mocked.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    host: str
    body: bytes


@dataclass
class RecordingServer:
    port: int
    requests: list[Recorded] = field(default_factory=list)


@contextmanager
def recording_server(answer: dict[str, Any], context: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    """Serve ``answer`` (HTTP 200, ``application/json``) on 127.0.0.1, over TLS when ``context`` is given."""
    body = json.dumps(answer).encode()
    recording = RecordingServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            received = self.rfile.read(length) if length else b""
            recording.requests.append(Recorded(self.command, self.path, self.headers.get("host", ""), received))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815 - the http.server API

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    recording.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield recording
    finally:
        server.shutdown()
        server.server_close()
