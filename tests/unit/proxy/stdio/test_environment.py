"""The stdio child's environment: an allow-list plus configured keys, never Portico's own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proxy.stdio.environment import child_environment, resolve_command


def test_only_allow_listed_keys_are_inherited_and_configured_keys_are_added() -> None:
    """Our choice (seed-gateways.md §1.3): children never see PORTICO_SECRET_KEY and friends."""
    parent = {
        "PATH": "/bin",
        "HOME": "/home/p",
        "LANG": "C.UTF-8",
        "PORTICO_SECRET_KEY": "secret",
        "DATABASE_URL": "postgresql://x",
        "AWS_SECRET_ACCESS_KEY": "k",
    }
    env = child_environment({"API_TOKEN": "t", "HOME": "/srv"}, parent)
    assert env == {"PATH": "/bin", "HOME": "/srv", "LANG": "C.UTF-8", "API_TOKEN": "t"}


def test_lc_all_is_passed_only_when_set_and_path_has_a_fallback() -> None:
    assert child_environment({}, {"LC_ALL": "C"}) == {"LC_ALL": "C", "PATH": "/usr/local/bin:/usr/bin:/bin"}


def test_commands_are_found_on_path_or_next_to_portico(tmp_path: Path) -> None:
    tool = tmp_path / "my-server"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert resolve_command("my-server", str(tmp_path)) == str(tool)
    assert Path(resolve_command(Path(sys.executable).name, "/nonexistent")).parent == Path(sys.executable).parent
    assert resolve_command("/abs/path", "") == "/abs/path"
    with pytest.raises(FileNotFoundError):
        resolve_command("no-such-command-anywhere", str(tmp_path))
