"""``portico users list`` and ``portico users disable EMAIL`` against the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.runtime import Runtime
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def config_file(runtime: Runtime, secret_key: str, tmp_path: Path) -> str:
    path = tmp_path / "portico.yaml"
    path.write_text(
        f"public_url: http://127.0.0.1:8080\ndatabase_url: '{runtime.config.database_url}'\n"
        f"secrets: {{secret_key: '{secret_key}'}}\n"
    )
    return str(path)


async def signed_in(runtime: Runtime, email: str) -> None:
    identity = UpstreamIdentity(provider="dev", provider_subject=email, email=email, email_verified=True)
    await sign_in(runtime, identity)


async def test_users_list_prints_one_row_per_user(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime, "alice@example.com")
    await signed_in(runtime, "bob@example.com")
    assert main(["users", "list", "--config", config_file]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ID  EMAIL")
    assert [line.split()[:4] for line in lines[1:]] == [
        ["1", "alice@example.com", "dev", "no"],
        ["2", "bob@example.com", "dev", "no"],
    ]


async def test_users_disable_marks_the_user_disabled(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime, "alice@example.com")
    assert main(["users", "disable", "Alice@Example.com", "--config", config_file]) == 0
    assert "disabled user 1" in capsys.readouterr().out
    main(["users", "list", "--config", config_file])
    assert capsys.readouterr().out.splitlines()[1].split()[3] == "yes"


def test_users_disable_of_an_unknown_email_fails(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "disable", "nobody@example.com", "--config", config_file]) == 1
    assert "no user has the email nobody@example.com" in capsys.readouterr().err


def test_users_commands_refuse_an_unmigrated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fresh.yaml"
    path.write_text(f"public_url: http://127.0.0.1:8080\ndatabase_url: 'sqlite:///{tmp_path / 'fresh.db'}'\n")
    assert main(["users", "list", "--config", str(path)]) == 1
    assert "portico migrate" in capsys.readouterr().err
