"""Installing a peer on demand: its own venv (PyPI) or npm prefix under the peers cache dir.

The cache dir is ``.bench-peers/`` at the repository root (gitignored), or ``$BENCH_PEERS_DIR``.
Each install is pinned and recorded in a marker file, so a second run reuses it and a changed
pin reinstalls. Failures raise :class:`PeerUnavailableError` with a one-line reason for the report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".uv" / "bin" / "uv"
NODE = ROOT / "tests" / "node" / "node_modules" / ".bin" / "node"
MARKER = ".bench-installed"
INSTALL_TIMEOUT_S = 900


class PeerUnavailableError(Exception):
    """A peer that cannot be installed, started or driven here; the message goes into the report."""


def cache_dir() -> Path:
    return Path(os.environ.get("BENCH_PEERS_DIR") or ROOT / ".bench-peers")


def _run(args: list[str | Path], what: str) -> None:
    try:
        done = subprocess.run(
            [str(arg) for arg in args], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailableError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise PeerUnavailableError(f"{what} failed: {' '.join(lines[-3:])[:300]}")


def python_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of an interpreter, or None when it does not run."""
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


def find_python(low: tuple[int, int], high: tuple[int, int]) -> str:
    """An interpreter on this machine with ``low <= version < high`` (PATH, then pyenv's versions).

    Raises PeerUnavailableError when there is none: uv could download one, but nothing outside the
    package registries is reachable here.
    """
    candidates = [sys.executable]
    candidates += [found for minor in range(low[1], high[1]) if (found := shutil.which(f"python{low[0]}.{minor}"))]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        candidates += [str(path) for path in sorted(pyenv.glob("*/bin/python3"), reverse=True)]
    for python in candidates:
        version = python_version(python)
        if version is not None and low <= version < high:
            return python
    raise PeerUnavailableError(f"needs Python >={low[0]}.{low[1]},<{high[0]}.{high[1]}; none found on this machine")


def python_env(name: str, requirement: str, python: str = sys.executable) -> Path:
    """A venv at ``<cache>/<name>`` holding ``requirement`` (e.g. ``fastmcp==4.1.2``); its path."""
    venv = cache_dir() / name
    marker = venv / MARKER
    wanted = f"{requirement} {python}"
    if marker.is_file() and marker.read_text() == wanted:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    if UV.is_file():
        _run([UV, "venv", "--quiet", "--python", python, venv], f"creating the {name} venv")
        _run([UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", requirement], f"pip {requirement}")
    else:
        _run([python, "-m", "venv", venv], f"creating the {name} venv")
        _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", requirement], f"pip {requirement}")
    marker.write_text(wanted)
    return venv


def npm_prefix(name: str, package: str) -> Path:
    """An npm prefix at ``<cache>/<name>`` holding ``package`` (e.g. ``supergateway@4.0.0``); its path."""
    prefix = cache_dir() / name
    marker = prefix / MARKER
    if marker.is_file() and marker.read_text() == package:
        return prefix
    npm = shutil.which(os.environ.get("NPM", "npm"))
    if npm is None:
        raise PeerUnavailableError("npm is not installed")
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    _run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", package], f"npm {package}")
    marker.write_text(package)
    return prefix


def node() -> Path:
    """The suite's Node 22 (``make node-deps``); peers run with it, not the system node."""
    if not NODE.exists():
        raise PeerUnavailableError("Node 22 is not installed (make node-deps)")
    return NODE
