"""Group and default values: per key the user's own token > a group's value > the default (the Reflow
gateway's order; our design, proxy/credentials/groups.py). Groups are those stored at sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import run_db
from oauth.login.store.users import UserRow
from proxy.credentials.explain import explain_credentials
from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.credentials.oauth_harness import serve_portico_with, sign_in_to_portico
from tests.integration.proxy.credentials.test_injection import connect
from tests.integration.proxy.gateway.harness import Portico, fixture_stdio_server, serve_portico
from tests.support.pages import connection_status
from tests.support.users import add_user

pytestmark = pytest.mark.anyio

TOKEN = {
    "type": "user_token",
    "env": "GH_TOKEN",
    "groups": {"engineering": "eng-team-token", "ops": "ops-team-token"},
    "default": "default-token",
}
NO_DEFAULT = {**{k: v for k, v in TOKEN.items() if k != "default"}}
STATIC = {"type": "static", "groups": {"engineering": {"TEAM_KEY": "eng-key"}}}
SERVERS: dict[str, Any] = {
    "gh": fixture_stdio_server(credentials=TOKEN),
    "strict": fixture_stdio_server(credentials=NO_DEFAULT),
    "team": fixture_stdio_server(env={"TEAM_KEY": "everyone-key", "OTHER": "x"}, credentials=STATIC),
}


async def env_value(portico: Portico, subject: str, server: str, name: str) -> str | int:
    async with portico.client(server, subject=subject) as client:
        try:
            result = await client.call_tool("env_value", {"name": name})
        except MCPError as error:
            return error.code
    return str(result.content[0].text)  # type: ignore[union-attr]


async def test_own_token_beats_the_group_value_which_beats_the_default(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, SERVERS) as portico:
        own = await add_user(portico.runtime, "own@example.com", ["engineering"])
        both = await add_user(portico.runtime, "both@example.com", ["ops", "engineering"])
        ops = await add_user(portico.runtime, "ops@example.com", ["ops"])
        nobody = await add_user(portico.runtime, "nobody@example.com", [])
        await connect(portico, own, "own-token")
        seen = {subject: await env_value(portico, subject, "gh", "GH_TOKEN") for subject in (own, both, ops, nobody)}
        strict = await env_value(portico, nobody, "strict", "GH_TOKEN")
        strict_ops = await env_value(portico, ops, "strict", "GH_TOKEN")
    # "engineering" is listed first in the configuration, so it wins for a member of both.
    assert seen == {own: "own-token", both: "eng-team-token", ops: "ops-team-token", nobody: "default-token"}
    assert strict == CREDENTIAL_REQUIRED
    assert strict_ops == "ops-team-token"


async def test_a_static_key_takes_the_group_value_for_members_only(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, SERVERS) as portico:
        member = await add_user(portico.runtime, "eng@example.com", ["engineering"])
        other = await add_user(portico.runtime, "other@example.com", ["sales"])
        seen = [await env_value(portico, subject, "team", "TEAM_KEY") for subject in (member, other)]
        untouched = await env_value(portico, member, "team", "OTHER")
    assert seen == ["eng-key", "everyone-key"]
    assert untouched == "x"


async def test_explain_names_the_source_of_each_key_and_never_a_value(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, SERVERS) as portico:
        member = await add_user(portico.runtime, "eng@example.com", ["engineering"])
        nobody = await add_user(portico.runtime, "nobody@example.com", [])
        runtime = portico.runtime

        async def explain(subject: str, server: str) -> str:
            lines = await run_db(
                runtime.db,
                lambda db: explain_credentials(
                    db,
                    runtime.config,
                    runtime.sealer,
                    subject=subject,
                    email="e",
                    server=server,
                    now=runtime.clock.now(),
                ),
            )
            return "\n".join(lines)

        gh_member, gh_nobody = await explain(member, "gh"), await explain(nobody, "gh")
        team_member, team_nobody = await explain(member, "team"), await explain(nobody, "team")
    assert "GH_TOKEN: from group engineering (servers.gh.credentials.groups.engineering" in gh_member
    assert "GH_TOKEN: from default (servers.gh.credentials.default" in gh_nobody
    assert "TEAM_KEY: from group engineering" in team_member
    assert "TEAM_KEY: from the configuration (servers.team.env)" in team_nobody
    everything = gh_member + gh_nobody + team_member + team_nobody
    for secret in ("eng-team-token", "default-token", "eng-key", "everyone-key"):
        assert secret not in everything


@pytest.mark.browser
async def test_the_connections_page_shows_a_group_token_as_provided(tmp_path: Path, page: Page) -> None:
    servers = {"strict": fixture_stdio_server(title="Strict", credentials=NO_DEFAULT)}
    async with serve_portico_with(tmp_path, servers) as (portico, _clock):
        await sign_in_to_portico(page, portico.base_url, "alice@example.com")
        before = await connection_status(page, "strict")

        def join_ops(db: Session) -> None:
            (row,) = db.scalars(select(UserRow)).all()
            row.groups = ["ops"]

        await run_db(portico.runtime.db, join_ops)
        await page.reload()
        after = await connection_status(page, "strict")
        html = await page.content()
    assert (before, after) == ("missing", "provided")
    assert "ops-team-token" not in html
