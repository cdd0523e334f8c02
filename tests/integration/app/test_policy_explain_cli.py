"""``portico policy explain USER SERVER [TOOL]`` against a real database with real user rows (docs/policy.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from app.cli import main
from app.db import transaction
from app.runtime import Runtime, build_runtime
from oauth.login.api import accounts_by_email, disable_user
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from oauth.login.store.users import UserRow
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
CLAUDE = "https://claude.ai/oauth/mcp-oauth-client-metadata"
LOGIN = {
    "providers": [
        {
            "type": "oidc",
            "id": "corp",
            "issuer": "https://idp.example.com",
            "client_id": "portico",
            "groups_claim": "roles",
        },
        {"type": "dev"},
    ],
    "allowed_domains": ["example.com"],
}
SERVERS = {
    "github": {"transport": "streamable-http", "url": "https://github.example/mcp", "tools": {"exclude": ["admin_*"]}},
    "docs": {"transport": "streamable-http", "url": "https://docs.example/mcp"},
}
POLICY = {
    "default": "deny",
    "rules": [
        {
            "name": "no-claude-deletes",
            "effect": "deny",
            "clients": [CLAUDE],
            "servers": {"github": {"tools": ["delete_*"]}},
        },
        {"name": "eng-write", "effect": "allow", "groups": ["engineering"], "servers": {"github": {}}},
        {
            "name": "read-only",
            "effect": "allow",
            "domains": ["example.com"],
            "servers": {"github": {"tools": ["get_*"]}},
        },
    ],
}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(login=LOGIN, servers=SERVERS, policy=POLICY), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def config_file(runtime: Runtime, secret_key: str, tmp_path: Path) -> str:
    data: dict[str, Any] = {
        "public_url": "http://127.0.0.1:8080",
        "database_url": runtime.config.database_url,
        "secrets": {"secret_key": secret_key},
        "login": LOGIN,
        "servers": SERVERS,
        "policy": POLICY,
    }
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


async def signed_in(runtime: Runtime) -> None:
    """Ann signs in with both providers (groups only from corp); Bob with dev."""
    await sign_in(runtime, UpstreamIdentity("corp", "corp-ann", "Ann@Example.com", True, groups=("engineering",)))
    await sign_in(runtime, UpstreamIdentity("dev", "ann@example.com", "ann@example.com", True))
    await sign_in(runtime, UpstreamIdentity("dev", "bob@example.com", "bob@example.com", True))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["policy", "explain", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_each_account_of_an_email_is_explained_with_the_deciding_rule_and_group_origin(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    code, out, _ = run(capsys, "ANN@example.com", "github", "create_issue", "--config", config_file)
    assert code == 0
    corp, dev = out.split("\nann@example.com (")
    assert "provider 'corp'" in corp and "tool 'create_issue' on github: allowed" in corp
    assert "by policy.rules[1] 'eng-write' (allow; matched group 'engineering')" in corp
    assert "group 'engineering' from the groups claim of sign-in provider 'corp'" in corp
    assert "login.providers.0.groups_claim = 'roles'" in corp and "at the last sign-in, 20" in corp
    assert "provider 'dev'" in dev and "groups: none stored" in dev
    assert "tool 'create_issue' on github: DENIED" in dev and "by policy.default (deny)" in dev


async def test_a_client_rule_applies_only_with_that_client(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    code, out, _ = run(capsys, "bob@example.com", "github", "delete_repo", "--client", CLAUDE, "--config", config_file)
    assert code == 0 and "DENIED" in out and f"(deny; matched client '{CLAUDE}')" in out
    code, out, _ = run(capsys, "bob@example.com", "github", "get_issue", "--client", CLAUDE, "--config", config_file)
    assert "allowed" in out and "'read-only' (allow; matched domain 'example.com')" in out
    _, out, _ = run(capsys, "bob@example.com", "github", "get_issue", "--config", config_file)
    assert "client: none given, so rules naming clients do not apply" in out


async def test_without_a_tool_the_server_usability_and_a_summary_are_printed(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    with transaction(runtime.db) as db:
        [bob] = accounts_by_email(db, "bob@example.com")
    code, out, _ = run(capsys, bob.subject, "github", "--config", config_file)
    assert code == 0 and "server github: usable" in out
    assert "tools: only tools matching get_*" in out and "prompts: no prompts" in out
    _, out, _ = run(capsys, bob.subject, "docs", "--config", config_file)
    assert "server docs: NOT usable" in out and "by policy.default (deny)" in out


async def test_a_subject_beginning_with_a_dash_is_explained_after_the_double_dash(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Subjects minted before app.identifiers could begin with '-'; '--' ends the options.
    await signed_in(runtime)
    with transaction(runtime.db) as db:
        [bob] = accounts_by_email(db, "bob@example.com")
        db.execute(update(UserRow).where(UserRow.subject == bob.subject).values(subject="-bob-minted-long-ago"))
    code, out, _ = run(capsys, "--config", config_file, "--", "-bob-minted-long-ago", "github")
    assert code == 0 and "server github: usable" in out


async def test_resources_prompts_and_the_static_filter(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    _, out, _ = run(capsys, "ann@example.com", "github", "admin_reset", "--config", config_file)
    assert out.count("by servers.github.tools.exclude (deny)") == 2
    _, out, _ = run(capsys, "ann@example.com", "github", "--resource", "repo://x/README", "--config", config_file)
    assert "resource 'repo://x/README' on github: allowed" in out
    _, out, _ = run(capsys, "bob@example.com", "github", "--prompt", "review", "--config", config_file)
    assert "prompt 'review' on github: DENIED" in out


async def test_unknown_users_servers_and_conflicting_targets_exit_2(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    assert run(capsys, "nobody@example.com", "github", "--config", config_file)[::2] == (
        2,
        "portico: no user has the email nobody@example.com\n",
    )
    assert run(capsys, "no-such-subject", "github", "--config", config_file)[::2] == (
        2,
        "portico: no user has the subject no-such-subject\n",
    )
    code, _, err = run(capsys, "ann@example.com", "gihub", "--config", config_file)
    assert (code, err) == (2, "portico: no server named 'gihub'; did you mean 'github'?\n")
    code, _, err = run(capsys, "ann@example.com", "github", "x", "--prompt", "y", "--config", config_file)
    assert (code, err) == (2, "portico: give one of TOOL, --resource and --prompt\n")


async def test_nothing_secret_is_printed(
    runtime: Runtime, config_file: str, secret_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    _, out, err = run(capsys, "ann@example.com", "github", "--config", config_file)
    assert secret_key not in out + err and "postgres" not in out + err


async def test_a_disabled_account_is_said_to_be_refused_whatever_the_policy(
    runtime: Runtime, config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await signed_in(runtime)
    with transaction(runtime.db) as db:
        disable_user(db, "bob@example.com")
    code, out, _ = run(capsys, "bob@example.com", "github", "get_issue", "--config", config_file)
    assert code == 0 and "this account is disabled: Portico refuses it whatever the policy says" in out
