"""The ``audit`` section's documented defaults and refusals, argument redaction, and ``portico audit``'s times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.audit.rows import redact
from app.audit.times import parse_time
from app.config import ConfigError, load_config

VALID = "public_url: http://127.0.0.1:8080\n"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_audit_is_on_by_default_to_the_database_without_arguments(tmp_path: Path) -> None:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID)
    audit = load_config(path, env={}).audit
    assert (audit.enabled, audit.sink, audit.jsonl_path, audit.include_arguments) == (True, "database", "-", False)
    assert (audit.queue_size, audit.batch_size, audit.flush_interval, audit.retention_days) == (10_000, 500, 1.0, 90)
    assert "password" in audit.redact_keys and "token" in audit.redact_keys


@pytest.mark.parametrize(
    ("text", "key_path"),
    [
        ("audit: {sink: syslog}", "audit.sink"),
        ("audit: {queue_size: 0}", "audit.queue_size"),
        ("audit: {flush_interval: 0}", "audit.flush_interval"),
        ("audit: {retention_dayz: 3}", "audit.retention_dayz"),
    ],
)
def test_a_bad_audit_key_is_refused_at_its_key_path(tmp_path: Path, text: str, key_path: str) -> None:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID + text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert [problem.key_path for problem in caught.value.problems] == [key_path]


def test_redaction_replaces_the_values_of_the_keys_at_any_depth() -> None:
    arguments = {"query": "q", "Password": "p", "nested": [{"token": "t", "keep": 1}], "auth": {"api_key": "k"}}
    assert redact(arguments, {"password", "token", "api_key"}) == {
        "query": "q",
        "Password": "[redacted]",
        "nested": [{"token": "[redacted]", "keep": 1}],
        "auth": {"api_key": "[redacted]"},
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("15m", NOW - timedelta(minutes=15)),
        ("1h", NOW - timedelta(hours=1)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-12-01T08:30:00Z", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01T10:30:00+02:00", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_times_are_iso_8601_or_a_span_back_from_now(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7x", "-1h", "", "1.5h"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="neither an ISO 8601 time nor a span"):
        parse_time(text, NOW)
