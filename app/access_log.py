"""Uvicorn's access log without the data plane's lines (``portico serve``'s default).

Each access line goes through the redacting handler (``app.log``): ~30 µs of CPU per request,
about 7 % of a warm proxied ``tools/call`` (docs/performance.md). The data plane's traffic —
``/<name>/mcp``, ``/<name>/sse`` and ``/<name>/sse/messages`` — is dropped at the
``uvicorn.access`` logger, before any formatting; every other route (OAuth, login, consent,
metadata, health) is still logged, and so are Portico's own records about MCP traffic
(refused tokens, upstream failures, ...), which come from other loggers.
``portico serve --mcp-access-log`` keeps the data plane's lines too.
"""

from __future__ import annotations

import logging
import re
from typing import Final

ACCESS_LOGGER: Final = "uvicorn.access"
_DATA_PLANE_PATH = re.compile(r"/[^/?]+/(?:mcp|sse|sse/messages)(?:\?.*)?")


class DataPlaneAccessFilter(logging.Filter):
    """Drops uvicorn access records whose path is an MCP data-plane path.

    Uvicorn's record args are ``(client, method, path with query, http version, status)``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            return _DATA_PLANE_PATH.fullmatch(args[2]) is None
        return True


def quiet_data_plane_access_log() -> None:
    """Install :class:`DataPlaneAccessFilter` on uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, DataPlaneAccessFilter) for existing in logger.filters):
        logger.addFilter(DataPlaneAccessFilter())
