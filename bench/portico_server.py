"""Portico as the harness runs it: ``python -m bench.portico_server CONFIG.json TOKENS.json WORKERS``.

Builds the runtime once (migrations, signing key), mints one access token per (server, subject)
into TOKENS.json before anything is timed, then serves exactly as ``portico serve`` does
(uvicorn, uvloop, httptools), with 1 or more workers sharing the SQLite database and its keys.

A tiny wrapper answers ``GET /__bench/stats`` with the worker's SQL statement count and RSS, so
the harness can check that warm calls never touch the database and measure memory per stream.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.clock import SystemClock
from app.config import PorticoConfig
from app.runtime import build_runtime
from oauth.tokens.access_tokens import issue_access_token

_queries = 0
_statements: dict[str, int] = {}


def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    global _queries
    _queries += 1
    key = " ".join(statement.split())[:90]
    _statements[key] = _statements.get(key, 0) + 1


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _config() -> PorticoConfig:
    return PorticoConfig.model_validate(json.loads(Path(os.environ["BENCH_PORTICO_CONFIG"]).read_text()))


def _fake_login(app: Any) -> None:
    """``BENCH_FAKE_LOGIN=1``: every browser is signed in as one bench user (token endpoint case only)."""
    from oauth.login import api as login_api
    from oauth.login.api import SignedInUser, current_user

    user = SignedInUser(subject="bench-user", email="bench@example.com", name="Bench", login_session_id="ls-bench")

    async def may_continue(_runtime: Any, _subject: str) -> bool:
        return True

    app.dependency_overrides[current_user] = lambda: user
    login_api.user_may_continue = may_continue  # type: ignore[assignment]


def factory() -> Any:
    """The ASGI app for one uvicorn worker, wrapped with the stats route."""
    from app.main import create_app

    event.listen(Engine, "before_cursor_execute", _count)
    inner = create_app(runtime=build_runtime(_config(), clock=SystemClock(), env={}, apply_migrations=False))
    if os.environ.get("BENCH_FAKE_LOGIN") == "1":
        _fake_login(inner)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__bench/stats":
            body = json.dumps(
                {"db_queries": _queries, "statements": _statements, "rss": rss_bytes(), "pid": os.getpid()}
            ).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await inner(scope, receive, send)

    return app


def main() -> None:
    config_path, tokens_path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    subjects = int(os.environ.get("BENCH_SUBJECTS", "1"))
    os.environ["BENCH_PORTICO_CONFIG"] = config_path
    config = _config()
    runtime = build_runtime(config, clock=SystemClock(), env={})
    tokens: dict[str, dict[str, str]] = {}
    for name in config.servers:
        audience = f"{config.public_url}/{name}/mcp"
        tokens[name] = {}
        for subject in range(1, subjects + 1):
            token, _claims = issue_access_token(
                runtime.signing_keys,
                issuer=config.public_url,
                subject=str(subject),
                audience=audience,
                client_id="bench",
                scopes={"mcp"},
                now=runtime.clock.now(),
                lifetime=6 * 3600,
            )
            tokens[name][str(subject)] = token
    runtime.engine.dispose()
    Path(tokens_path).write_text(json.dumps(tokens))

    import uvicorn

    uvicorn.run(
        "bench.portico_server:factory",
        factory=True,
        host=config.listen.host,
        port=config.listen.port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
