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
def run_portico(tmp_path: Path, config: dict[str, Any], *, database_url: str | None = None) -> Iterator[Process]:
    """Start ``portico serve`` on a free loopback port with ``config`` (public_url/listen filled in).

    ``database_url`` defaults to a SQLite file in ``tmp_path``. Yields when ``/readyz`` answers.
    """
    port = free_port()
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
