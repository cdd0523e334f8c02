"""A real HTTP server on 127.0.0.1 (a thread) that serves metadata documents and counts hits."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = {"Content-Type": "application/json"}


@dataclass
class Route:
    """What one path answers.

    ``gate``: answer only once it is set. ``hold``: never answer (until the server stops).
    ``endless``: after ``body``, stream spaces until the client goes away.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    content_length: bool = True
    gate: threading.Event | None = None
    hold: bool = False
    endless: bool = False


def valid_document(url: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "client_id": url,
        "client_name": "Example App",
        "redirect_uris": ["https://app.example.com/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    document.update(changes)
    return document


class DocumentServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.host_headers: list[str] = []
        self.arrived = threading.Event()
        self.released = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve_json(self, path: str, document: object, *, headers: dict[str, str] | None = None) -> str:
        self.routes[path] = Route(body=json.dumps(document).encode(), headers={**JSON, **(headers or {})})
        return self.url(path)

    def serve_valid(self, path: str, *, headers: dict[str, str] | None = None, **changes: Any) -> str:
        return self.serve_json(path, valid_document(self.url(path), **changes), headers=headers)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: DocumentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            server.hits[self.path] += 1
            server.host_headers.append(self.headers.get("Host", ""))
            server.arrived.set()
            route = server.routes.get(self.path, Route(status=404, body=b"{}"))
            try:
                self._answer(route)
            except OSError:
                pass  # the client went away: that is what several tests provoke

        def _answer(self, route: Route) -> None:
            if route.hold:
                server.released.wait(timeout=30)
                return
            if route.gate is not None and not route.gate.wait(timeout=30):
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.content_length and not route.endless:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
            while route.endless and not server.released.is_set():
                self.wfile.write(b" " * 1024)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from http.server
            pass

    return Handler


@contextmanager
def running_document_server() -> Iterator[DocumentServer]:
    """A started :class:`DocumentServer`, stopped on exit."""
    running = DocumentServer()
    running.start()
    try:
        yield running
    finally:
        running.stop()
