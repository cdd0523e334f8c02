"""The ``database`` section: documented defaults; errors at their key paths (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_config

VALID = "public_url: http://127.0.0.1:8080\n"


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.source == str(path)
    return [problem.key_path for problem in caught.value.problems]


def test_every_database_wait_has_a_documented_bounded_default(tmp_path: Path) -> None:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID)
    database = load_config(path, env={}).database
    assert (database.connect_timeout_seconds, database.statement_timeout_seconds, database.lock_timeout_seconds) == (
        5,
        5.0,
        3.0,
    )
    assert (database.pool_timeout_seconds, database.call_timeout_seconds, database.readiness_timeout_seconds) == (
        5.0,
        10.0,
        2.0,
    )
    assert (database.workers, database.retry_after_seconds, database.pool_pre_ping) == (20, 5, True)


def test_a_non_positive_bound_is_refused_at_its_key_path(tmp_path: Path) -> None:
    assert _problems(tmp_path, "database:\n  workers: 0\n") == ["database.workers"]
    assert _problems(tmp_path, "database:\n  call_timeout_seconds: -1\n") == ["database.call_timeout_seconds"]


def test_a_misspelt_database_key_is_refused_at_its_key_path(tmp_path: Path) -> None:
    assert _problems(tmp_path, "database:\n  statement_timeout: 5\n") == ["database.statement_timeout"]


def test_a_call_timeout_shorter_than_the_pool_wait_is_refused(tmp_path: Path) -> None:
    text = "database:\n  call_timeout_seconds: 1\n  pool_timeout_seconds: 5\n"
    assert _problems(tmp_path, text) == ["database"]
