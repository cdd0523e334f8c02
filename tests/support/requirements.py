"""Which real components are present, and what a test does when one is missing.

A missing component skips the test with a one-line reason; with ``PORTICO_REQUIRE_ALL=1`` (CI) it fails instead.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = REPO_ROOT / "tests" / "node"
CHROMIUM = Path("/usr/bin/chromium")
DATABASE_URL_ENV = "PORTICO_TEST_DATABASE_URL"


def require_all() -> bool:
    """True when missing components are failures rather than skips (``PORTICO_REQUIRE_ALL=1``)."""
    return os.environ.get("PORTICO_REQUIRE_ALL") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip the current test unless ``condition``; fail it instead when ``PORTICO_REQUIRE_ALL=1``."""
    if not condition:
        missing(reason)


def missing(reason: str) -> NoReturn:
    """Skip the current test (``reason`` is the one-line message), or fail it when ``PORTICO_REQUIRE_ALL=1``."""
    if require_all():
        pytest.fail(f"required component missing: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> Path | None:
    """Debian's Chromium (``apt-get install chromium``), if installed."""
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


def node22_path() -> Path | None:
    """The Node 22 binary installed from npm under ``tests/node`` (``make node-deps``), if present."""
    node = NODE_DIR / "node_modules" / ".bin" / "node"
    return node if node.exists() and _node_version(str(node)).startswith("v22") else None


@functools.cache
def _node_version(node: str) -> str:
    try:
        result = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip()


def node_package_dir(name: str) -> Path | None:
    """``tests/node/node_modules/<name>`` (e.g. ``oidc-provider``, ``@modelcontextprotocol/server-everything``)."""
    directory = NODE_DIR / "node_modules" / name
    return directory if (directory / "package.json").is_file() else None


def postgres_url() -> str | None:
    """``$PORTICO_TEST_DATABASE_URL`` (SQLAlchemy form) if set and the server accepts a connection within 2 s."""
    url = os.environ.get(DATABASE_URL_ENV)
    return url if url and _postgres_answers(url) else None


@functools.cache
def _postgres_answers(url: str) -> bool:
    conninfo = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    try:
        with psycopg.connect(conninfo, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except (psycopg.Error, ValueError):
        return False
    return True


def require_chromium() -> Path:
    """The Chromium binary, or skip/fail."""
    path = chromium_path()
    if path is None:
        missing(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    return path


def require_node22() -> Path:
    """The Node 22 binary, or skip/fail."""
    path = node22_path()
    if path is None:
        missing("Node 22 not installed under tests/node (make node-deps)")
    return path


def require_node_package(name: str) -> Path:
    """An npm package's directory under tests/node/node_modules, or skip/fail."""
    path = node_package_dir(name)
    if path is None:
        missing(f"npm package {name} not installed under tests/node (make node-deps)")
    return path


def require_postgres() -> str:
    """A reachable PostgreSQL URL (SQLAlchemy form), or skip/fail."""
    url = postgres_url()
    if url is None:
        missing(f"PostgreSQL not reachable (set {DATABASE_URL_ENV})")
    return url


REDIS_SERVER = Path("/usr/bin/redis-server")


def require_redis_server() -> Path:
    """Debian's ``redis-server`` binary (tests start their own), or skip/fail."""
    if not os.access(REDIS_SERVER, os.X_OK):
        missing(f"redis-server not installed at {REDIS_SERVER} (apt-get install redis-server)")
    return REDIS_SERVER
