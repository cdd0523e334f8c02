"""A real TCP proxy in front of a server (PostgreSQL), for database fault tests: pass, refuse, blackhole, restore.

- ``passing`` (the start): bytes flow both ways.
- :meth:`TcpProxy.refuse`: the listening socket is closed (a new connection gets ``ECONNREFUSED``) and
  every open connection is reset (RST), as when the database host is down.
- :meth:`TcpProxy.blackhole`: a network partition: new connections are accepted and never answered,
  open ones stop forwarding (the kernel still acknowledges the bytes, nothing comes back).
- :meth:`TcpProxy.restore`: back to passing; connections held by the blackhole are reset, so their
  clients see an error (as after a partition long enough for TCP to give up) instead of a late answer.

Threads, blocking sockets: one accept loop, two pumps per connection. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from enum import Enum

from sqlalchemy.engine import make_url

HOST = "127.0.0.1"


class Mode(Enum):
    PASSING = "passing"
    REFUSING = "refusing"
    BLACKHOLE = "blackhole"


class _Link:
    """One client connection and (unless accepted in a blackhole) its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.sockets = [s for s in (client, upstream) if s is not None]
        self.closed = False

    def reset(self) -> None:
        """Close with RST (SO_LINGER 0); SHUT_RD first wakes a pump blocked in ``recv``."""
        if self.closed:
            return
        self.closed = True
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)
            sock.close()


class TcpProxy:
    """Listens on ``127.0.0.1:port`` and forwards to ``target`` while passing."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = Mode.PASSING
        self._changed = threading.Condition()
        self._links: list[_Link] = []
        self._listener: socket.socket | None = None
        self.port = self._listen(0)

    @property
    def open_connections(self) -> int:
        """Connections accepted and not yet reset (held by a blackhole included)."""
        with self._changed:
            return sum(not link.closed for link in self._links)

    # --- the test's controls -------------------------------------------------------------------

    def refuse(self) -> None:
        with self._changed:
            self.mode = Mode.REFUSING
            self._close_listener()
            self._reset_links()
            self._changed.notify_all()

    def blackhole(self) -> None:
        with self._changed:
            self.mode = Mode.BLACKHOLE
            self._changed.notify_all()

    def restore(self) -> None:
        with self._changed:
            if self.mode is Mode.BLACKHOLE:
                self._reset_links()
            self.mode = Mode.PASSING
            if self._listener is None:
                self._listen(self.port)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.mode = Mode.REFUSING
            self._close_listener()
            self._reset_links()
            self._changed.notify_all()

    # --- machinery ---------------------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True).start()
        return int(listener.getsockname()[1])

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop; frees the port now
            self._listener.close()
            self._listener = None

    def _reset_links(self) -> None:
        links, self._links = self._links, []
        for link in links:
            link.reset()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by refuse()/close()
                return
            client.settimeout(None)
            with self._changed:
                if self.mode is Mode.BLACKHOLE:
                    self._links.append(_Link(client, None))  # accepted, never answered
                    continue
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _Link(client, None).reset()
            return
        upstream.settimeout(None)
        link = _Link(client, upstream)
        with self._changed:
            self._links.append(link)
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(link, source, target), name="tcp-proxy-pump", daemon=True).start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                with self._changed:
                    while self.mode is Mode.BLACKHOLE and not link.closed:
                        self._changed.wait()
                    if link.closed:
                        return
                target.sendall(data)
        except OSError:
            pass
        link.reset()


@contextlib.contextmanager
def tcp_proxy(target: tuple[str, int]) -> Iterator[TcpProxy]:
    """A passing :class:`TcpProxy` in front of ``target``; closed (every connection reset) at the end."""
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


@contextlib.contextmanager
def proxied_database(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A :class:`TcpProxy` in front of ``database_url``'s PostgreSQL, and the same URL through the proxy."""
    url = make_url(database_url)
    with tcp_proxy((url.host or HOST, url.port or 5432)) as proxy:
        yield proxy, url.set(host=HOST, port=proxy.port).render_as_string(hide_password=False)
