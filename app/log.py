"""Structured logging (text or JSON) with redaction of credentials.

Authorization headers, cookies, bearer tokens, JWTs, authorization codes, code_verifiers, client
secrets, refresh tokens and registered secret values (upstream credentials, the root key) are
replaced by ``[REDACTED]`` in every record, whatever its level or logger (uvicorn's included).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from app.observe.request_id import current_request_id

REDACTED = "[REDACTED]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_SENSITIVE_KEYS = (
    r"access_token|refresh_token|id_token|token|code|code_verifier|client_secret|password|secret|state|"
    r"assertion|client_assertion|requeststate|api[_-]?key|x-api-key|cookie|set-cookie|authorization|"
    r"proxy-authorization|mcp_session_id|mcp-session-id"
)
_PATTERNS = (
    # key=value (query strings, forms) and "key": "value" / key: value (JSON, headers, reprs)
    re.compile(rf"(?i)\b({_SENSITIVE_KEYS})(\s*=\s*)([^&\s,;\"']+)"),
    re.compile(rf"(?i)([\"']?\b(?:{_SENSITIVE_KEYS})[\"']?\s*:\s*)([\"']?)((?:Bearer |Basic )?[^\"',\s}}]+)"),
    re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
)

_secret_values: set[str] = set()
_secret_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Redact this exact value from all future log records (ignored when shorter than 8 chars)."""
    if len(value) >= 8:
        with _secret_lock:
            _secret_values.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every credential-shaped substring replaced by ``[REDACTED]``."""
    for value in tuple(_secret_values):
        text = text.replace(value, REDACTED)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _PATTERNS[3].sub(REDACTED, text)


class RedactionFilter(logging.Filter):
    """Renders the message once, redacts it, and drops the args so nothing unredacted survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        return True


def install_request_ids() -> None:
    """Give every log record, whatever its logger or handler, ``request_id``: the HTTP request being
    served (``-`` outside one). Idempotent (wraps the record factory once)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "portico_request_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    factory.portico_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id (when serving a request), message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            entry["request_id"] = request_id
        entry["message"] = record.getMessage()
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Route every logger (uvicorn's too) through one redacting handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    install_request_ids()
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
