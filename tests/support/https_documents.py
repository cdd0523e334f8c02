"""A local HTTPS server (trustme test CA) that serves JSON documents, e.g. a Client ID Metadata Document."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme


@dataclass
class HttpsDocuments:
    """``base_url`` is ``https://localhost:<port>``; ``ca_file`` is the PEM of the CA that signed it."""

    base_url: str
    ca_file: Path
    documents: dict[str, dict[str, Any]]


@contextmanager
def serve_https_documents(directory: Path) -> Iterator[HttpsDocuments]:
    """Serve ``documents[path]`` as ``application/json`` over TLS for ``localhost`` until the context ends."""
    authority = trustme.CA()
    ca_file = directory / "test-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    documents: dict[str, dict[str, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            document = documents.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"{}"
            self.send_response(200 if document is not None else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpsDocuments(f"https://localhost:{server.server_address[1]}", ca_file, documents)
    finally:
        server.shutdown()
        server.server_close()
