"""The database fault fixture works for real: tests/support/tcp_proxy.py passes, refuses, blackholes, restores.

Against a loopback echo server, so that a broken fixture is told apart from a broken Portico.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.tcp_proxy import HOST, TcpProxy, tcp_proxy

WAIT = 2.0  # seconds a socket waits for an answer that must (or must not) come


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    listener = socket.create_server((HOST, 0))
    stop = threading.Event()

    def echo(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            while data := connection.recv(4096):
                connection.sendall(data)

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                threading.Thread(target=echo, args=(connection,), daemon=True).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    yield HOST, listener.getsockname()[1]
    stop.set()
    server.join()
    listener.close()


@pytest.fixture
def proxy(echo_server: tuple[str, int]) -> Iterator[TcpProxy]:
    with tcp_proxy(echo_server) as running:
        yield running


def _connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection((HOST, proxy.port), timeout=WAIT)


def _wait_until_accepted(proxy: TcpProxy) -> None:
    deadline = time.monotonic() + WAIT
    while proxy.open_connections == 0:
        assert time.monotonic() < deadline, "the proxy never accepted the connection"
        time.sleep(0.01)


def _ended(connection: socket.socket) -> bool:
    """True when the peer closed or reset the connection (within :data:`WAIT`)."""
    try:
        return connection.recv(4096) == b""
    except ConnectionResetError:
        return True


def _round_trip(connection: socket.socket, data: bytes = b"ping") -> bytes:
    connection.sendall(data)
    return connection.recv(4096)


def test_a_passing_proxy_forwards_both_ways(proxy: TcpProxy) -> None:
    with _connect(proxy) as connection:
        assert _round_trip(connection) == b"ping"


def test_refusing_resets_open_connections_and_refuses_new_ones(proxy: TcpProxy) -> None:
    with _connect(proxy) as connection:
        assert _round_trip(connection) == b"ping"
        proxy.refuse()
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            _round_trip(connection)  # RST, or an end of stream that the second send turns into one
            _round_trip(connection)
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy)


def test_a_blackhole_accepts_and_never_answers(proxy: TcpProxy) -> None:
    with _connect(proxy) as established:
        assert _round_trip(established) == b"ping"
        proxy.blackhole()
        with _connect(proxy) as new:
            with pytest.raises(TimeoutError):
                _round_trip(new)
        with pytest.raises(TimeoutError):
            _round_trip(established)


def test_restore_after_a_blackhole_resets_held_connections_and_passes_again(proxy: TcpProxy) -> None:
    proxy.blackhole()
    with _connect(proxy) as held:
        held.sendall(b"lost")
        _wait_until_accepted(proxy)  # in the blackhole, not after restore
        proxy.restore()
        assert _ended(held)
    with _connect(proxy) as connection:
        assert _round_trip(connection) == b"ping"


def test_restore_after_refusing_listens_on_the_same_port_again(proxy: TcpProxy) -> None:
    port = proxy.port
    proxy.refuse()
    proxy.restore()
    assert proxy.port == port
    with _connect(proxy) as connection:
        assert _round_trip(connection) == b"ping"
