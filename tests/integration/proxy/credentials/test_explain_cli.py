"""``portico credentials explain EMAIL SERVER``: sources of each key, never a value (our design)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.db import transaction
from app.runtime import Runtime, build_runtime
from oauth.login.api import accounts_by_email
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from proxy.credentials.vault import USER_TOKEN, store_secret
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
SECRET = "ghp_explainsecret123456"
SERVERS = """
servers:
  gh:
    transport: streamable-http
    url: https://api.example.com/mcp
    headers: {X-Team: team-secret-value}
    credentials: {type: user_token, format: "Bearer {token}"}
"""


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    login = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
    built = build_runtime(make_config(login=login), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def config_file(runtime: Runtime, secret_key: str, tmp_path: Path) -> str:
    path = tmp_path / "portico.yaml"
    path.write_text(
        f"public_url: http://127.0.0.1:8080\ndatabase_url: '{runtime.config.database_url}'\n"
        f"secrets: {{secret_key: '{secret_key}'}}\n{SERVERS}"
    )
    return str(path)


async def test_explain_names_sources_and_never_values(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for email in ("alice@example.com", "bob@example.com"):
        identity = UpstreamIdentity(provider="dev", provider_subject=email, email=email, email_verified=True)
        await sign_in(runtime, identity)
    with transaction(runtime.db) as db:
        now = runtime.clock.now()
        [alice_account] = accounts_by_email(db, "alice@example.com")
        store_secret(
            db, runtime.sealer, subject=alice_account.subject, server="gh", kind=USER_TOKEN, secret=SECRET, now=now
        )

    assert main(["credentials", "explain", "alice@example.com", "gh", "--config", config_file]) == 0
    alice = capsys.readouterr().out
    assert main(["credentials", "explain", "bob@example.com", "gh", "--config", config_file]) == 0
    bob = capsys.readouterr().out
    assert main(["credentials", "explain", "bob@example.com", "nope", "--config", config_file]) == 1

    assert "header X-Team: from the configuration" in alice
    assert "header Authorization: the user's token" in alice and "decrypts for this user" in alice
    assert "header Authorization: MISSING" in bob and "/connections?server=gh" in bob
    assert SECRET not in alice + bob and "team-secret-value" not in alice + bob
    assert "no server named 'nope'" in capsys.readouterr().err
