"""``portico check-config`` as an operator runs it (issue #14, finding 10).

Duplicate keys are errors (exit 1, naming file, key path and both lines); a stdio command that
the child would not find and an unreachable HTTP upstream are warnings (exit 0, or 1 with
``--strict``); ``--probe`` tries each HTTP upstream once. Real CLI processes, a real MCP upstream.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Process, free_port, start_process

PORTICO = Path(sys.executable).parent / "portico"
FIXTURE_SERVER = Path(__file__).resolve().parents[2] / "fixtures" / "mcp_fixture_server.py"
HEAD = "public_url: http://127.0.0.1:8080\n"


def check_config(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PORTICO), "check-config", str(path), *options], capture_output=True, text=True, timeout=60, check=False
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portico.yaml"
    path.write_text(HEAD + text)
    return path


@pytest.fixture(scope="module")
def http_upstream() -> Iterator[Process]:
    port = free_port()
    argv = [sys.executable, str(FIXTURE_SERVER), "http", str(port)]
    with start_process(argv, port=port, name="mcp-fixture-http") as process:
        yield process


def test_a_server_name_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    """Our choice (YAML 1.2 says keys are unique): before, the second `time` silently won, exit 0."""
    path = write(
        tmp_path,
        "servers:\n"
        "  time:\n"
        "    transport: stdio\n"
        "    command: mcp-server-time\n"
        "  time:\n"
        "    transport: stdio\n"
        "    command: mcp-server-time\n",
    )
    result = check_config(path)
    assert result.returncode == 1
    assert f"{path}: servers.time: duplicate key: first at line 3, again at line 6" in result.stderr


def test_a_duplicate_key_deep_in_a_server_is_an_error_too(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "servers:\n  time:\n    transport: stdio\n    command: mcp-server-time\n"
        "    idle_timeout: 5\n    idle_timeout: 9\n",
    )
    result = check_config(path)
    assert result.returncode == 1
    assert "servers.time.idle_timeout: duplicate key: first at line 6, again at line 7" in result.stderr


def test_a_stdio_command_not_on_the_childs_path_is_a_warning_and_strict_makes_it_fail(tmp_path: Path) -> None:
    """Our choice: valid (it may be installed later) but said; before, nothing until the first call."""
    path = write(
        tmp_path,
        "servers:\n"
        "  time:\n    transport: stdio\n    command: mcp-server-time\n"
        "  ghost:\n    transport: stdio\n    command: portico-no-such-mcp-server\n",
    )
    relaxed = check_config(path)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "servers.ghost.command: 'portico-no-such-mcp-server' was not found" in relaxed.stderr
    assert "servers.time" not in relaxed.stderr  # found next to Portico's interpreter, as the child would
    strict = check_config(path, "--strict")
    assert strict.returncode == 1
    assert "servers.ghost.command" in strict.stderr


def test_the_childs_path_is_the_configured_env_path(tmp_path: Path) -> None:
    """A command on Portico's PATH but not on the server's own ``env.PATH`` would not start."""
    tool = tmp_path / "bin" / "portico-test-tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    empty = tmp_path / "empty"
    empty.mkdir()
    path = write(
        tmp_path,
        "servers:\n"
        f"  found:\n    transport: stdio\n    command: portico-test-tool\n    env: {{PATH: '{tool.parent}'}}\n"
        f"  lost:\n    transport: stdio\n    command: portico-test-tool\n    env: {{PATH: '{empty}'}}\n",
    )
    result = check_config(path, "--strict")
    assert result.returncode == 1
    assert "servers.lost.command" in result.stderr
    assert "servers.found" not in result.stderr


def test_probe_reports_each_http_upstream_reachable_or_not(tmp_path: Path, http_upstream: Process) -> None:
    dead_port = free_port()
    path = write(
        tmp_path,
        "servers:\n"
        f"  live:\n    transport: streamable-http\n    url: {http_upstream.base_url}/mcp\n"
        f"  dead:\n    transport: streamable-http\n    url: http://127.0.0.1:{dead_port}/mcp\n",
    )
    without_probe = check_config(path)
    assert without_probe.returncode == 0
    assert "probe:" not in without_probe.stdout
    probed = check_config(path, "--probe")
    assert probed.returncode == 0, probed.stderr
    live = next(line for line in probed.stdout.splitlines() if "servers.live" in line)
    assert live.startswith("probe: servers.live: reachable, HTTP ")
    assert "probe: servers.dead: unreachable (ConnectError)" in probed.stdout
    assert "servers.dead.url: the upstream is unreachable" in probed.stderr
    assert str(dead_port) not in probed.stdout + probed.stderr  # no configured URL is printed
    assert check_config(path, "--probe", "--strict").returncode == 1
