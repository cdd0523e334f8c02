"""``portico limits explain USER SERVER [TOOL]`` on a configuration file (docs/limits.md §Explain)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.cli import main

CONFIG = {
    "public_url": "https://gw.example.com",
    "servers": {"github": {"transport": "streamable-http", "url": "https://github.example/mcp"}},
    "limits": {
        "rules": [{"name": "gh-users", "key": "user+server", "servers": ["github"], "rate": "60/minute", "burst": 10}]
    },
    "redis": {"url": "redis://:sekrit@redis.internal:6379/0"},
}


def write(tmp_path: Path) -> str:
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return str(path)


def test_it_prints_the_rules_counting_a_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["limits", "explain", "alice@example.com", "github", "create_issue", "--config", write(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "rule gh-users: 60/minute, burst 10, per user on this server (alice@example.com on github)" in out
    assert "Redis (shared" in out and "sekrit" not in out and "redis.internal" not in out


def test_an_unknown_server_exits_2_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits", "explain", "alice", "githb", "--config", write(tmp_path)]) == 2
    assert "no server named 'githb'; did you mean 'github'?" in capsys.readouterr().err


def test_a_broken_configuration_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "limits": {"rules": [{"name": "x"}]}}))
    assert main(["limits", "explain", "alice", "github", "--config", str(path)]) == 1
    assert "limits.rules.0" in capsys.readouterr().err
