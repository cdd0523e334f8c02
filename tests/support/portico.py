"""Run Portico as a real process (``portico serve``) for end-to-end and interop tests."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from app.crypto import generate_secret
from tests.support.processes import Process, free_port, start_process

PORTICO = Path(sys.executable).parent / "portico"


@contextlib.contextmanager
def run_portico(
    tmp_path: Path, config: dict[str, Any], *, database_url: str | None = None, port: int | None = None
) -> Iterator[Process]:
    """Start ``portico serve`` on a loopback port with ``config`` (public_url/listen filled in).

    ``port`` defaults to a free one (pass one chosen with ``free_port()`` when a redirect URI must be
    known beforehand, e.g. to register Portico at an IdP). ``database_url`` defaults to a SQLite file
    in ``tmp_path``. The configuration is written to ``tmp_path / "portico.yaml"`` (for ``portico users``).
    Yields when ``/readyz`` answers.
    """
    port = port or free_port()
    full = {
        "public_url": f"http://127.0.0.1:{port}",
        "listen": {"host": "127.0.0.1", "port": port},
        "database_url": database_url or f"sqlite:///{tmp_path / 'portico.db'}",
        "secrets": {"secret_key": generate_secret()},
        **config,
    }
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
