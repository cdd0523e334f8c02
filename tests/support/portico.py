"""Run Portico as a real process (``portico serve``) for end-to-end and interop tests."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from app.config.loader import load_config
from app.crypto import generate_secret
from app.runtime import build_runtime
from oauth.tokens.access_tokens import issue_access_token
from tests.support.databases import isolated_postgres_database
from tests.support.processes import Process, free_port, start_process
from tests.support.requirements import DATABASE_URL_ENV, require_all

PORTICO = Path(sys.executable).parent / "portico"


@contextlib.contextmanager
def run_portico(
    tmp_path: Path, config: dict[str, Any], *, database_url: str | None = None, port: int | None = None
) -> Iterator[Process]:
    """Start ``portico serve`` on a loopback port with ``config`` (public_url/listen filled in).

    ``port`` defaults to a free one (pass one chosen with ``free_port()`` when a redirect URI must be
    known beforehand, e.g. to register Portico at an IdP). ``database_url`` defaults to a new, empty
    PostgreSQL database when ``PORTICO_TEST_DATABASE_URL`` is set (Portico migrates it at start, as a real
    deployment does; dropped afterwards), else to a SQLite file in ``tmp_path`` — except under
    ``PORTICO_REQUIRE_ALL=1``, where a missing PostgreSQL fails the test. The configuration is written
    to ``tmp_path / "portico.yaml"`` (for ``portico users``). Yields when ``/readyz`` answers.
    """
    with _database(tmp_path, database_url) as url:
        yield from _serve(tmp_path, config, url, port or free_port())


@contextlib.contextmanager
def _database(tmp_path: Path, database_url: str | None) -> Iterator[str]:
    if database_url is not None:
        yield database_url
    elif os.environ.get(DATABASE_URL_ENV) or require_all():
        with isolated_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'portico.db'}"


def _serve(tmp_path: Path, config: dict[str, Any], database_url: str, port: int) -> Iterator[Process]:
    full = {
        "public_url": f"http://127.0.0.1:{port}",
        "database_url": database_url,
        "secrets": {"secret_key": generate_secret()},
        **config,
        "listen": {**config.get("listen", {}), "host": "127.0.0.1", "port": port},  # other listen keys kept
    }
    full["listen"] = {"host": "127.0.0.1", "port": port, **config.get("listen", {})}  # keys besides the bind
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump(full))
    with start_process(
        [str(PORTICO), "serve", "--config", str(path)],
        port=port,
        ready_url=f"http://127.0.0.1:{port}/readyz",
        cwd=tmp_path,
        name="portico",
    ) as process:
        yield process


def mint_access_token(tmp_path: Path, audience: str, *, subject: str = "e2e-user", lifetime: int = 3600) -> str:
    """An access token for ``audience`` signed with the keys of the Portico that ``run_portico(tmp_path, …)`` started.

    For clients that cannot do OAuth themselves (the conformance suite's server mode): the keys are read from
    that Portico's database with its secret key, exactly as Portico itself loads them.
    """
    config = load_config(tmp_path / "portico.yaml", env={})
    runtime = build_runtime(config, env={}, apply_migrations=False)
    try:
        token, _claims = issue_access_token(
            runtime.signing_keys,
            issuer=config.public_url,
            subject=subject,
            audience=audience,
            client_id="e2e-test",
            scopes={"mcp"},
            now=runtime.clock.now(),
            lifetime=lifetime,
        )
    finally:
        runtime.close()
    return token
