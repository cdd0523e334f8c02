"""Metrics on (``metrics.listen`` set): the families, their observer on the event bus, and the listener.

``/metrics`` (any path, in fact) is served by prometheus-client's own HTTP server on a daemon thread
bound to ``metrics.listen`` — never by the public app. With ``PROMETHEUS_MULTIPROC_DIR`` set, the
served registry is a :class:`~prometheus_client.multiprocess.MultiProcessCollector` over every
worker's files, plus this process's scrape-time gauges (ADR 0017).
"""

from __future__ import annotations

import logging
import os
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine

from app.config import PorticoConfig
from app.observe.bus import EventBus
from proxy.gateway import Gateway
from proxy.inbound.open_exchanges import OpenExchanges
from proxy.metrics.collector import GatewayCollector
from proxy.metrics.families import Families
from proxy.metrics.observer import MetricsObserver

log = logging.getLogger("portico.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class MetricsExporter:
    """Built with the app (observer registered at once); :meth:`start` binds the listener when serving."""

    def __init__(
        self, config: PorticoConfig, events: EventBus, gateway: Gateway, exchanges: OpenExchanges, engine: Engine
    ) -> None:
        self.address = config.metrics.address
        self.registry = CollectorRegistry()
        self.families = Families(self.registry)
        self.observer = MetricsObserver(self.families, config.servers)
        events.add_mcp(self.observer)
        events.add_auth(self.observer)
        collector = GatewayCollector(gateway, exchanges, config.servers, engine)
        if os.environ.get(MULTIPROC_ENV):
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed)  # type: ignore[no-untyped-call]
            self.exposed.register(collector)
        else:
            self.exposed = self.registry
            self.registry.register(collector)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind ``metrics.listen``. Raises OSError when the address is taken."""
        host, port = self.address
        self._server, self._thread = start_http_server(port, addr=host, registry=self.exposed)
        log.info("metrics on http://%s:%d/metrics", host, port)

    def stop(self) -> None:
        """Blocks up to the server's poll interval (0.5 s): call it off the event loop."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def metrics_exporter(
    config: PorticoConfig, events: EventBus, gateway: Gateway, exchanges: OpenExchanges, engine: Engine
) -> MetricsExporter | None:
    """The exporter when ``metrics.listen`` is set, else None (nothing observed, nothing built)."""
    return MetricsExporter(config, events, gateway, exchanges, engine) if config.metrics.enabled else None
