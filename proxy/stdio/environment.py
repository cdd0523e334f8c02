"""The environment and command line of a stdio child: built from an allow-list, never inherited.

A child sees only ``PATH``, ``HOME``, ``LANG`` (and ``LC_ALL`` when set) from Portico's own
environment, plus the server's configured ``env`` keys (and, with per-user credentials, the
user's). Portico's secrets (``PORTICO_SECRET_KEY``, database URLs, anything else in its
environment) are therefore invisible to upstream servers (docs/architecture.md, "Upstream
processes"; MCP 2025-11-25 security best practices §Local MCP Server Compromise).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

INHERITED_KEYS: Final = ("PATH", "HOME", "LANG", "LC_ALL")
_FALLBACK_PATH: Final = "/usr/local/bin:/usr/bin:/bin"


def child_environment(configured: Mapping[str, str], parent: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of ``parent`` (default ``os.environ``) overlaid with ``configured``."""
    source = os.environ if parent is None else parent
    env = {key: source[key] for key in INHERITED_KEYS if key in source}
    env.setdefault("PATH", _FALLBACK_PATH)
    env.update(configured)
    return env


def resolve_command(command: str, path: str) -> str:
    """An absolute executable for ``command``: as given if it has a slash, else looked up on ``path``
    and then next to Portico's own interpreter (so servers installed in Portico's environment, such
    as ``mcp-server-time``, run without that directory on ``PATH``).

    Raises:
        FileNotFoundError: no such executable.
    """
    if os.sep in command:
        return command
    search = os.pathsep.join([path, str(Path(sys.executable).parent)])
    found = shutil.which(command, path=search)
    if found is None:
        raise FileNotFoundError(f"command {command!r} was not found on PATH")
    return found
