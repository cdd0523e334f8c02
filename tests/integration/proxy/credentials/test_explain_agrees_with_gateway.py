"""``portico credentials explain`` and the gateway agree on every case of the resolver's table
(our design, docs/credentials.md "Resolution order"; issue #13).

Each case builds one fixture (users, groups, stored tokens and grants) on a real database, runs
explain, then the gateway's own resolution (``Gateway(runtime).credentials``: VaultCredentials
behind CachedCredentials), and checks that every key explain names with a source is exactly a key
the gateway sends, with the value of that source, and that MISSING means the gateway sends
nothing for it (and answers ``tools/call`` with -32011). The case's expected sources pin the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import epoch_seconds
from app.db import run_db, transaction
from app.runtime import Runtime, build_runtime
from oauth.login.api import disable_user
from oauth.login.store.users import UserRow
from proxy.credentials.explain import explain_credentials
from proxy.credentials.oauth.grant import OAUTH, OAuthGrant
from proxy.credentials.vault import USER_TOKEN, load_secret, store_secret
from proxy.credentials.vault.store import UpstreamCredentialRow
from proxy.gateway import Gateway
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock
from tests.support.recording_http import RecordingServer, recording_server

pytestmark = pytest.mark.anyio
OWN = "own-token-value-1"
REFRESHED = "refreshed-access-token-1"
Named = tuple[str, str | None]  # (source, group)
MISSING: Named = ("MISSING", None)
CONFIGURATION: Named = ("configuration", None)


def servers(token_endpoint: str) -> dict[str, Any]:
    return {
        "plain": {
            "transport": "streamable-http",
            "url": "https://up.example.com/mcp",
            "headers": {"X-Static": "plain-1"},
        },
        "team": {
            "transport": "stdio",
            "command": "x",
            "env": {"TEAM_KEY": "everyone-key-1", "OTHER": "other-value-1"},
            "credentials": {"type": "static", "groups": {"engineering": {"TEAM_KEY": "eng-key-1"}}},
        },
        "gh": {
            "transport": "streamable-http",
            "url": "https://gh.example.com/mcp",
            "headers": {"X-Team": "team-header-1"},
            "credentials": {
                "type": "user_token",
                "format": "Bearer {token}",
                "groups": {"engineering": "eng-token-1"},
                "default": "default-token-1",
            },
        },
        "strict": {
            "transport": "stdio",
            "command": "x",
            "credentials": {"type": "user_token", "env": "GH_TOKEN", "groups": {"ops": "ops-token-1"}},
        },
        "up": {
            "transport": "streamable-http",
            "url": "https://up.example.com/mcp",
            "credentials": {
                "type": "oauth",
                "client_id": "portico",
                "client_secret": "client-secret-1",
                "authorization_endpoint": "https://as.example.com/authorize",
                "token_endpoint": token_endpoint,
            },
        },
    }


@dataclass(frozen=True)
class Case:
    server: str
    groups: tuple[str, ...] = ()
    disabled: bool = False
    own: str | None = None  # "valid", "expired" or "copied" (another user's row: does not decrypt)
    grant: str | None = None  # "valid", "expired-refreshable" or "expired"
    expected: tuple[tuple[str, Named], ...] = ()  # key → (source, group)


CASES = {
    "static only": Case("plain", expected=(("X-Static", CONFIGURATION),)),
    "static and a group value": Case(
        "team",
        groups=("engineering",),
        expected=(("OTHER", CONFIGURATION), ("TEAM_KEY", ("group", "engineering"))),
    ),
    "own user_token": Case(
        "gh", own="valid", expected=(("X-Team", CONFIGURATION), ("Authorization", ("user_token", None)))
    ),
    "no own token, a group": Case(
        "gh",
        groups=("engineering",),
        expected=(("X-Team", CONFIGURATION), ("Authorization", ("group", "engineering"))),
    ),
    "no own token, the default": Case("gh", expected=(("X-Team", CONFIGURATION), ("Authorization", ("default", None)))),
    "no own token, nothing": Case("strict", groups=("sales",), expected=(("GH_TOKEN", MISSING),)),
    "expired own token and a default": Case(
        "gh", own="expired", expected=(("X-Team", CONFIGURATION), ("Authorization", ("default", None)))
    ),
    "expired own token, nothing": Case("strict", own="expired", expected=(("GH_TOKEN", MISSING),)),
    "own token that does not decrypt, a default": Case(
        "gh", own="copied", expected=(("X-Team", CONFIGURATION), ("Authorization", ("default", None)))
    ),
    "oauth grant valid": Case("up", grant="valid", expected=(("Authorization", ("oauth_grant", None)),)),
    "oauth grant expired, refreshable": Case(
        "up", grant="expired-refreshable", expected=(("Authorization", ("oauth_grant", None)),)
    ),
    "oauth grant expired, no refresh token": Case("up", grant="expired", expected=(("Authorization", MISSING),)),
    "oauth not connected": Case("up", expected=(("Authorization", MISSING),)),
    "disabled user with an own token": Case(
        "gh",
        groups=("engineering",),
        disabled=True,
        own="valid",
        expected=(("X-Team", CONFIGURATION), ("Authorization", MISSING)),
    ),
    "disabled user in a group": Case(
        "team",
        groups=("engineering",),
        disabled=True,
        expected=(("OTHER", CONFIGURATION), ("TEAM_KEY", CONFIGURATION)),
    ),
    "disabled user with an oauth grant": Case(
        "up", disabled=True, grant="valid", expected=(("Authorization", MISSING),)
    ),
}


@pytest.fixture
def token_endpoint() -> Iterator[RecordingServer]:
    answer = {"access_token": REFRESHED, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2"}
    with recording_server(answer) as server:
        yield server


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock, token_endpoint: RecordingServer) -> Iterator[Runtime]:
    config = make_config(servers=servers(f"http://127.0.0.1:{token_endpoint.port}/token"))
    built = build_runtime(config, clock=clock, env={})
    yield built
    built.close()


def add_user(db: Session, runtime: Runtime, email: str, case: Case) -> str:
    now = runtime.clock.now()
    row = UserRow(
        provider="dev",
        provider_subject=email,
        email=email,
        email_verified=True,
        groups=list(case.groups),
        first_sign_in_at=now,
        last_sign_in_at=now,
    )
    db.add(row)
    db.flush()
    if case.disabled:
        disable_user(db, email)
    return row.subject


def store(db: Session, runtime: Runtime, subject: str, case: Case) -> None:
    now, epoch = runtime.clock.now(), epoch_seconds(runtime.clock.now())
    if case.own is not None:
        owner = "0" if case.own == "copied" else subject
        expires = now - timedelta(seconds=1) if case.own == "expired" else None
        store_secret(
            db,
            runtime.sealer,
            subject=owner,
            server=case.server,
            kind=USER_TOKEN,
            secret=OWN,
            now=now,
            expires_at=expires,
        )
        if case.own == "copied":
            stolen = db.scalars(select(UpstreamCredentialRow)).one()
            db.add(
                UpstreamCredentialRow(
                    subject=subject,
                    server=case.server,
                    kind=USER_TOKEN,
                    ciphertext=stolen.ciphertext,
                    created_at=now,
                    updated_at=now,
                )
            )
    if case.grant is not None:
        expires_at = epoch + 3600 if case.grant == "valid" else epoch - 10
        refresh = None if case.grant == "expired" else "rt-1"
        grant = OAuthGrant("stored-access-token-1", refresh, expires_at, "read")
        store_secret(
            db, runtime.sealer, subject=subject, server=case.server, kind=OAUTH, secret=grant.to_json(), now=now
        )


LINE = re.compile(r"^  (?:header|environment variable|argument) (\S+)(?: and argument \{token\})?: (.*)$")
PREFIXES: tuple[tuple[str, Named], ...] = (
    ("MISSING", MISSING),
    ("from the configuration", CONFIGURATION),
    ("from default", ("default", None)),
    ("the user's token", ("user_token", None)),
    ("the access token of the user's OAuth grant", ("oauth_grant", None)),
)


def named_sources(lines: list[str]) -> dict[str, Named]:
    """Explain's lines as key → (source, group): what an operator reads off them."""
    named: dict[str, Named] = {}
    for match in filter(None, map(LINE.match, lines[1:])):
        key, text = match.groups()
        group = re.match(r"from group (\S+) ", text)
        sources = [source for prefix, source in PREFIXES if text.startswith(prefix)] or [("unknown", text)]
        named[key] = ("group", group.group(1)) if group else sources[0]
    return named


def value_of(runtime: Runtime, db: Session, subject: str, server: str, key: str, source: Named) -> str:
    """The value ``source`` holds for ``key`` in this fixture (the configuration or the vault)."""
    spec = runtime.config.servers[server]
    configured = getattr(spec, "headers", None) or getattr(spec, "env", {})
    credentials: Any = spec.credentials
    render: Callable[[str], str] = credentials.render if spec.per_user is not None else str
    kind, group = source
    if kind == "configuration":
        return str(configured[key].get_secret_value())
    if kind == "group" and spec.per_user is None:
        return str(credentials.groups[group][key].get_secret_value())
    if kind == "group":
        return render(credentials.groups[group].get_secret_value())
    if kind == "default":
        return render(credentials.default.get_secret_value())
    if kind == "user_token":
        return render(OWN)
    now = runtime.clock.now()
    grant = OAuthGrant.from_json(
        load_secret(db, runtime.sealer, subject=subject, server=server, kind=OAUTH, now=now) or ""
    )
    assert grant is not None
    return render(grant.access_token)


@pytest.mark.parametrize("name", list(CASES))
async def test_explain_names_exactly_what_the_gateway_sends(runtime: Runtime, name: str) -> None:
    case = CASES[name]

    def fixture(db: Session) -> str:
        subject = add_user(db, runtime, "user@example.com", case)
        store(db, runtime, subject, case)
        return subject

    subject = await run_db(runtime.db, fixture)
    lines = await run_db(
        runtime.db,
        lambda db: explain_credentials(
            db,
            runtime.config,
            runtime.sealer,
            subject=subject,
            email="user@example.com",
            server=case.server,
            now=runtime.clock.now(),
        ),
    )
    gateway = Gateway(runtime)
    credentials = gateway.credentials
    stdio = runtime.config.servers[case.server].transport == "stdio"
    sent = dict(
        await (credentials.stdio_env(subject, case.server) if stdio else credentials.http_headers(subject, case.server))
    )
    missing = await gateway.credential_missing(subject, case.server)
    named = named_sources(lines)
    with transaction(runtime.db) as db:
        expected = {
            key: value_of(runtime, db, subject, case.server, key, source)
            for key, source in named.items()
            if source != MISSING
        }
    assert sent == expected, "\n".join(lines)
    assert missing == (MISSING in named.values())
    assert named == dict(case.expected), "\n".join(lines)
    if case.grant == "expired-refreshable":
        assert sent["Authorization"] == f"Bearer {REFRESHED}"  # refreshed before it was sent
