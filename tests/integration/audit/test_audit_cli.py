"""``portico audit``: filters, newest first, table / JSON / CSV (parsed back), exit 2 on bad arguments;
``portico users disable`` writes its audit record straight to the table (no running bus)."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from app.audit.rows import auth_row, mcp_row
from app.audit.sinks import insert_rows
from app.audit.table import COLUMNS
from app.cli import main
from app.db import transaction
from app.observe.records import AuthEvent, McpRequestRecord
from app.runtime import Runtime, build_runtime
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from tests.conftest import ConfigFactory
from tests.integration.audit.rows import audit_rows

pytestmark = pytest.mark.anyio
HOUR = 3600.0


@pytest.fixture
def config_file(runtime: Runtime, secret_key: str, tmp_path: Path) -> str:
    path = tmp_path / "portico.yaml"
    path.write_text(
        f"public_url: http://127.0.0.1:8080\ndatabase_url: '{runtime.config.database_url}'\n"
        f"secrets: {{secret_key: '{secret_key}'}}\n"
    )
    return str(path)


def call(target: str, *, ago: float, email: str = "alice@example.com", server: str = "files") -> McpRequestRecord:
    return McpRequestRecord(
        started_at=time.time() - ago,
        request_id=f"r-{target}-{int(ago)}",
        server=server,
        method="tools/call",
        era="2026-07-28",
        transport="streamable-http",
        subject=email.split("@")[0],
        email=email,
        client_id="c",
        target=target,
        outcome="ok" if target != "delete" else "error",
        error_code=None if target != "delete" else -32012,
        policy="allowed" if target != "delete" else "denied",
        duration=0.0123,
    )


@pytest.fixture
def recorded(runtime: Runtime) -> None:
    rows = [
        mcp_row(call("echo", ago=3 * 24 * HOUR)),
        mcp_row(call("echo", ago=2 * HOUR)),
        mcp_row(call("delete", ago=HOUR)),
        mcp_row(call("echo", ago=60, email="bob@example.com", server="notes")),
        auth_row(AuthEvent(at=time.time() - 30, kind="sign_in", subject="alice", email="alice@example.com")),
    ]
    with transaction(runtime.db) as db:
        insert_rows(db, rows)


def run(config_file: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["audit", "--config", config_file, *args]) == 0
    return capsys.readouterr().out


@pytest.mark.usefixtures("recorded")
def test_filters_select_by_user_server_tool_kind_and_time_newest_first(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def ids(*args: str) -> list[str]:
        return [
            record.get("request_id", record["kind"])
            for record in json.loads(run(config_file, capsys, "--format", "json", *args))
        ]

    assert ids("--user", "alice@example.com") == ["sign_in", "r-delete-3600", "r-echo-7200", "r-echo-259200"]
    assert ids("--user", "alice", "--since", "1d") == ["sign_in", "r-delete-3600", "r-echo-7200"]
    assert ids("--server", "notes") == ["r-echo-60"]
    assert ids("--tool", "echo", "--until", "1h") == ["r-echo-7200", "r-echo-259200"]
    assert ids("--kind", "sign_in") == ["sign_in"]
    assert ids("--limit", "2") == ["sign_in", "r-echo-60"]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 4 * 24 * HOUR))
    until = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 2 * 24 * HOUR))
    assert ids("--since", since, "--until", until) == ["r-echo-259200"]


@pytest.mark.usefixtures("recorded")
def test_csv_has_every_column_and_parses_back(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    records = list(csv.DictReader(io.StringIO(run(config_file, capsys, "--format", "csv", "--tool", "delete"))))
    assert list(records[0]) == list(COLUMNS)
    (denied,) = records
    assert (denied["target"], denied["policy"], denied["error_code"], denied["outcome"]) == (
        "delete",
        "denied",
        "-32012",
        "error",
    )
    assert denied["duration_ms"] == "12.3" and denied["reason"] == "" and denied["time"].endswith("Z")


@pytest.mark.usefixtures("recorded")
def test_the_table_shows_one_line_per_record(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(config_file, capsys, "--user", "bob@example.com").splitlines()
    assert lines[0].split()[:3] == ["time", "kind", "user"]
    (line,) = lines[1:]
    assert "mcp_request" in line and "bob@example.com" in line and "tools/call echo" in line


@pytest.mark.parametrize(
    "args",
    [["--since", "yesterday"], ["--until", "7x"], ["--format", "xml"], ["--limit", "0"], ["--limit", "many"]],
)
def test_bad_arguments_exit_2(config_file: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--config", config_file, *args])
    assert exited.value.code == 2
    assert "portico audit: error:" in capsys.readouterr().err


async def test_disabling_a_user_is_audited_straight_to_the_table(
    config_file: str, make_config: ConfigFactory, database_url: str
) -> None:
    identity = UpstreamIdentity(provider="dev", provider_subject="a", email="alice@example.com", email_verified=True)
    signing_in = build_runtime(make_config(login={"allowed_domains": ["example.com"]}), env={})
    try:
        admitted = await sign_in(signing_in, identity)
    finally:
        signing_in.close()
    assert main(["users", "disable", "alice@example.com", "--config", config_file]) == 0
    (row,) = audit_rows(database_url, kind="user_disabled")
    assert (row["subject"], row["email"], row["reason"]) == (
        admitted.subject,
        "alice@example.com",
        "portico users disable",
    )
