"""Serve an ASGI app (a test stand-in) with uvicorn on 127.0.0.1, in a background thread.

    with serve_asgi(app) as base_url:      # http://127.0.0.1:<free port>
        ...

The server has its own event loop in its own thread, so the code under test can reach it over a real
socket from any loop. Startup and shutdown are bounded (``timeout`` seconds).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from tests.support.processes import HOST, free_port


@contextlib.contextmanager
def serve_asgi(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Yield the base URL once uvicorn accepts connections; stop it afterwards."""
    port = free_port()
    config = uvicorn.Config(
        app, host=HOST, port=port, lifespan="off", ws="none", log_level="warning", access_log=False, proxy_headers=False
    )  # as `portico serve`: forwarded headers are the app's business (listen.trusted_proxies)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"asgi-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the ASGI stand-in did not start on {HOST}:{port}")
        time.sleep(0.01)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
