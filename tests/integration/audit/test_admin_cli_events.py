"""Admin actions at the command line are audited (issue #18): ``portico users disable | enable``,
``portico tools approve``, ``portico keys rewrap | rotate-signing`` — read back with ``portico audit``
on SQLite and PostgreSQL; with ``audit.enabled: false`` nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.crypto import generate_secret
from app.db import create_db_engine, session_factory, transaction
from app.runtime import Runtime, build_runtime
from app.sealed_columns import RewrapReport, SealedColumn, rewrap_column
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from oauth.tokens.signing_keys import load_signing_keys
from proxy.pinning import PinningGate, PinningPolicy
from proxy.pinning.store import tool_states
from tests.conftest import ConfigFactory
from tests.integration.app.test_keys_cli import seal_secrets
from tests.integration.audit.rows import audit_rows
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
ConfigWriter = Callable[..., str]
ALICE = UpstreamIdentity(provider="dev", provider_subject="a", email="alice@example.com", email_verified=True)
SERVERS = "servers:\n  s:\n    transport: streamable-http\n    url: http://127.0.0.1:9/mcp\n    pinning: enforce\n"


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(login={"allowed_domains": ["example.com"]}), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def write_config(runtime: Runtime, secret_key: str, tmp_path: Path) -> ConfigWriter:
    """``write_config(audit=True, key=secret_key, previous=())``: a configuration file on the test database."""

    def write(*, audit: bool = True, key: str = secret_key, previous: tuple[str, ...] = ()) -> str:
        path = tmp_path / f"portico-{audit}-{key[:6]}-{len(previous)}.yaml"
        path.write_text(
            f"public_url: http://127.0.0.1:8080\ndatabase_url: '{runtime.config.database_url}'\n"
            f"secrets: {{secret_key: '{key}', previous_keys: [{', '.join(repr(k) for k in previous)}]}}\n"
            f"audit: {{enabled: {'true' if audit else 'false'}}}\n{SERVERS}"
        )
        return str(path)

    return write


def audited(config_file: str, capsys: pytest.CaptureFixture[str], kind: str) -> list[dict[str, Any]]:
    """The rows of ``kind`` as ``portico audit --format json`` prints them, oldest first."""
    capsys.readouterr()
    assert main(["audit", "--config", config_file, "--kind", kind, "--format", "json"]) == 0
    return list(reversed(json.loads(capsys.readouterr().out)))


async def test_enabling_a_disabled_user_lets_them_sign_in_and_both_actions_are_audited(
    runtime: Runtime, write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_config()
    subject = (await sign_in(runtime, ALICE)).subject
    assert main(["users", "disable", "alice@example.com", "--config", config_file]) == 0
    assert (await sign_in(runtime, ALICE)).login_session is None

    assert main(["users", "enable", "Alice@Example.com", "--config", config_file]) == 0
    assert "enabled user 1 (Alice@Example.com)" in capsys.readouterr().out
    assert (await sign_in(runtime, ALICE)).login_session is not None
    assert main(["users", "enable", "alice@example.com", "--config", config_file]) == 0  # already enabled
    assert "is not disabled: nothing to do" in capsys.readouterr().out

    (disabled,) = audited(config_file, capsys, "user_disabled")
    (enabled,) = audited(config_file, capsys, "user_enabled")  # the no-op run records nothing
    assert (enabled["subject"], enabled["email"], enabled["outcome"], enabled["reason"]) == (
        subject,
        "alice@example.com",
        "ok",
        "portico users enable",
    )
    assert enabled["details"] == {"actor": "cli"} and disabled["details"] == {"actor": "cli"}


def test_enabling_an_unknown_email_fails_and_records_nothing(
    runtime: Runtime, write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_config()
    assert main(["users", "enable", "nobody@example.com", "--config", config_file]) == 1
    assert "no user has the email nobody@example.com" in capsys.readouterr().err
    assert audit_rows(runtime.config.database_url) == []


async def pending_tools(database_url: str, clock: FakeClock) -> dict[str, str]:
    """Server ``s`` saw ``a`` and ``b``, then ``a`` changed and ``c`` appeared: ``{tool: latest hash}``."""
    engine = create_db_engine(database_url)
    try:
        gate = PinningGate({"s": PinningPolicy(mode="enforce", hold_new=True)}, session_factory(engine), clock=clock)
        await gate.observe("s", [tool("a", "Fetch a URL."), tool("b")])
        clock.advance(60)
        await gate.observe("s", [tool("a", "Fetch a URL and more."), tool("b"), tool("c")])
        with transaction(session_factory(engine)) as db:
            return {name: state.latest for name, state in tool_states(db, ["s"])["s"].items()}
    finally:
        engine.dispose()


def tool(name: str, description: str = "v1") -> dict[str, Any]:
    return {"name": name, "description": description, "inputSchema": {"type": "object"}}


async def test_tools_approve_records_one_event_per_definition_it_approved(
    runtime: Runtime, write_config: ConfigWriter, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_config()
    latest = await pending_tools(runtime.config.database_url, clock)
    with transaction(runtime.db) as db:
        first_a = tool_states(db, ["s"])["s"]["a"].approved
    assert first_a is not None and first_a != latest["a"]

    assert main(["tools", "approve", "s", "--all", "--config", config_file]) == 0
    assert main(["tools", "approve", "s", "a", "--config", config_file]) == 0  # already approved: no change

    rows = audited(config_file, capsys, "tool_approved")
    assert [(row["details"]["tool"], row["reason"]) for row in rows] == [
        ("a", "portico tools approve"),
        ("c", "portico tools approve"),
    ]
    a, c = (row["details"] for row in rows)
    assert a == {"actor": "cli", "server": "s", "tool": "a", "hash": latest["a"][:12], "previous": first_a[:12]}
    assert (c["hash"], c["previous"]) == (latest["c"][:12], "none")
    assert all(row.get("subject") is None for row in rows)  # no user is affected


def test_rotate_signing_records_the_new_kid(
    runtime: Runtime, write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_config()
    old_kid = runtime.signing_keys.signing_key.kid
    assert main(["keys", "rotate-signing", "--config", config_file, "--activate-in", "0"]) == 0
    new_kid = capsys.readouterr().out.split()[3]

    (row,) = audited(config_file, capsys, "signing_key_rotated")
    assert row["reason"] == "portico keys rotate-signing"
    details = row["details"]
    assert (details["actor"], details["kid"], details["retired_kid"]) == ("cli", new_kid, old_kid)
    assert details["activates_at"].endswith("Z")
    with transaction(runtime.db) as db:
        assert new_kid in {
            key.kid for key in load_signing_keys(db, runtime.sealer, datetime.now(UTC)).verification_keys
        }


def test_a_partial_rewrap_and_the_run_that_finishes_it_are_each_audited_with_their_counts(
    runtime: Runtime, write_config: ConfigWriter, secret_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seal_secrets(runtime)  # a signing key, three upstream credentials, one upstream client secret
    rotating = write_config(key=generate_secret(), previous=(secret_key,))
    assert main(["keys", "rewrap", "--config", rotating, "--batch-size", "1", "--max-rows", "2"]) == 0
    assert main(["keys", "rewrap", "--config", rotating]) == 0

    partial, finished = (row["details"] for row in audited(rotating, capsys, "keys_rewrapped"))
    assert partial["status"] == "partial" and finished["status"] == "finished"
    assert partial["upstream_credentials.ciphertext"] == "2 re-encrypted, 0 unreadable, 1 remaining"
    assert finished["upstream_credentials.ciphertext"] == "1 re-encrypted, 0 unreadable, 0 remaining"
    assert finished["signing_keys.private_jwk_encrypted"] == "0 re-encrypted, 0 unreadable, 0 remaining"
    assert partial["actor"] == "cli" and partial["key"] == finished["key"]
    assert secret_key not in json.dumps([partial, finished]) and "tok-" not in json.dumps([partial, finished])


def test_a_rewrap_that_deletes_unreadable_rows_says_how_many(
    runtime: Runtime, write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    seal_secrets(runtime)
    stranger = write_config(key=generate_secret())  # the stored rows' key is not configured at all
    assert main(["keys", "rewrap", "--config", stranger]) == 1
    assert main(["keys", "rewrap", "--config", stranger, "--delete-unreadable"]) == 0

    unreadable, deleted = (row["details"] for row in audited(stranger, capsys, "keys_rewrapped"))
    assert unreadable["status"] == "unreadable"
    assert unreadable["upstream_credentials.ciphertext"] == "0 re-encrypted, 3 unreadable, 0 remaining"
    assert deleted["status"] == "finished"
    assert deleted["upstream_credentials.ciphertext"] == "0 re-encrypted, 0 unreadable, 0 remaining, 3 deleted"


def test_a_rewrap_stopped_by_an_error_records_the_columns_it_finished(
    runtime: Runtime,
    write_config: ConfigWriter,
    secret_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seal_secrets(runtime)
    rotating = write_config(key=generate_secret(), previous=(secret_key,))

    def failing_on_credentials(factory: sessionmaker[Session], *args: Any, **kwargs: Any) -> RewrapReport:
        sealed: SealedColumn = args[1]
        if sealed.name == "upstream_credentials.ciphertext":
            raise ConnectionError("the database went away")  # injected fault: the real column work never starts
        return rewrap_column(factory, *args, **kwargs)

    monkeypatch.setattr("app.keys_cli.rewrap_column", failing_on_credentials)
    with pytest.raises(ConnectionError):
        main(["keys", "rewrap", "--config", rotating])

    (row,) = audited(rotating, capsys, "keys_rewrapped")
    assert row["details"]["status"] == "interrupted"
    assert row["details"]["signing_keys.private_jwk_encrypted"] == "1 re-encrypted, 0 unreadable, 0 remaining"
    assert "upstream_credentials.ciphertext" not in row["details"]


async def test_with_audit_off_no_admin_action_writes_a_row(
    runtime: Runtime, write_config: ConfigWriter, clock: FakeClock, secret_key: str
) -> None:
    quiet = write_config(audit=False)
    await sign_in(runtime, ALICE)
    await pending_tools(runtime.config.database_url, clock)
    seal_secrets(runtime)
    assert main(["users", "disable", "alice@example.com", "--config", quiet]) == 0
    assert main(["users", "enable", "alice@example.com", "--config", quiet]) == 0
    assert main(["tools", "approve", "s", "--all", "--config", quiet]) == 0
    assert main(["keys", "rotate-signing", "--config", quiet]) == 0
    rotating = write_config(audit=False, key=generate_secret(), previous=(secret_key,))
    assert main(["keys", "rewrap", "--config", rotating]) == 0

    assert audit_rows(runtime.config.database_url) == []
