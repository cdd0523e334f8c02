"""``portico keys rewrap`` and ``portico keys rotate-signing`` on SQLite and PostgreSQL (issue #15, finding 2).

Our design (docs/key-rotation.md): after ``rewrap`` every sealed column opens under the new root
key alone; a row still under a key that is not configured stops startup with a message naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from joserfc import jwt

from app.cli import main
from app.config import load_config
from app.crypto import generate_secret
from app.db import transaction
from app.keys_cli import DEFAULT_ACTIVATE_IN
from app.runtime import Runtime, build_runtime
from app.sealed_columns import UnknownKeyRowsError
from oauth.housekeeping import reload_signing_keys
from oauth.tokens.access_tokens import issue_access_token, verify_access_token
from proxy.credentials.oauth.client_store import UpstreamOAuthClientRow, put_upstream_client
from proxy.credentials.oauth.discovery import client_secret_aad
from proxy.credentials.vault import USER_TOKEN, load_secret, store_secret
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
PORTICO = Path(sys.executable).parent / "portico"
ISSUER = "https://as.example.com"
REDIRECT_URI = "http://127.0.0.1:8080/connections/callback/gh"
SUBJECTS = ("alice-subject", "bob-subject", "carol-subject")
AUDIENCE = "http://127.0.0.1:8080/time/mcp"


def write_config(tmp_path: Path, database_url: str, current: str, previous: tuple[str, ...] = ()) -> str:
    path = tmp_path / f"portico-{len(previous)}-{current[:6]}.yaml"
    path.write_text(
        f"public_url: http://127.0.0.1:8080\ndatabase_url: '{database_url}'\n"
        f"secrets: {{secret_key: '{current}', previous_keys: [{', '.join(repr(k) for k in previous)}]}}\n"
    )
    return str(path)


def seal_secrets(runtime: Runtime) -> None:
    """Upstream credentials for three users and one upstream client secret, under the runtime's key."""
    now = runtime.clock.now()
    with transaction(runtime.db) as db:
        for subject in SUBJECTS:
            store_secret(
                db, runtime.sealer, subject=subject, server="gh", kind=USER_TOKEN, secret=f"tok-{subject}", now=now
            )
        ciphertext = runtime.sealer.encrypt(b"client-secret", associated_data=client_secret_aad(ISSUER, REDIRECT_URI))
        put_upstream_client(
            db,
            UpstreamOAuthClientRow(
                issuer=ISSUER,
                redirect_uri=REDIRECT_URI,
                client_id="portico-at-as",
                token_endpoint_auth_method="client_secret_basic",
                secret_ciphertext=ciphertext,
                registered_at=now,
            ),
        )


def reopen(config_file: str, clock: FakeClock) -> Runtime:
    return build_runtime(load_config(Path(config_file)), clock=clock, env={})


def test_rewrap_reencrypts_every_sealed_column_so_the_old_key_can_be_dropped(
    runtime: Runtime, secret_key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seal_secrets(runtime)
    kid = runtime.signing_keys.signing_key.kid
    new_key = generate_secret()
    rotating = write_config(tmp_path, runtime.config.database_url, new_key, (secret_key,))

    assert main(["keys", "rewrap", "--config", rotating, "--batch-size", "2"]) == 0

    out = capsys.readouterr().out
    assert "signing_keys.private_jwk_encrypted: 1 re-encrypted, 0 unreadable, 0 remaining" in out
    assert "upstream_credentials.ciphertext: 3 re-encrypted, 0 unreadable, 0 remaining" in out
    assert "upstream_oauth_clients.secret_ciphertext: 1 re-encrypted, 0 unreadable, 0 remaining" in out
    assert "previous_keys may now be removed" in out
    clock = FakeClock()
    after = reopen(write_config(tmp_path, runtime.config.database_url, new_key), clock)  # the old key is gone
    try:
        assert after.signing_keys.signing_key.kid == kid
        with transaction(after.db) as db:
            for subject in SUBJECTS:
                secret = load_secret(db, after.sealer, subject=subject, server="gh", kind=USER_TOKEN, now=clock.now())
                assert secret == f"tok-{subject}"
            row = db.get(UpstreamOAuthClientRow, (ISSUER, REDIRECT_URI))
            assert row is not None and row.secret_ciphertext is not None
            aad = client_secret_aad(ISSUER, REDIRECT_URI)
            assert after.sealer.decrypt(row.secret_ciphertext, associated_data=aad) == b"client-secret"
    finally:
        after.close()


def test_an_interrupted_rewrap_resumes_where_it_stopped(
    runtime: Runtime, secret_key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seal_secrets(runtime)
    new_key = generate_secret()
    rotating = write_config(tmp_path, runtime.config.database_url, new_key, (secret_key,))

    assert main(["keys", "rewrap", "--config", rotating, "--batch-size", "1", "--max-rows", "2"]) == 0
    first = capsys.readouterr().out
    assert main(["keys", "rewrap", "--config", rotating]) == 0
    second = capsys.readouterr().out

    assert "upstream_credentials.ciphertext: 2 re-encrypted, 0 unreadable, 1 remaining" in first
    assert "run `portico keys rewrap` again" in first
    assert "upstream_credentials.ciphertext: 1 re-encrypted, 0 unreadable, 0 remaining" in second
    assert "signing_keys.private_jwk_encrypted: 0 re-encrypted" in second
    after = reopen(write_config(tmp_path, runtime.config.database_url, new_key), FakeClock())  # old key dropped
    after.close()


def test_startup_with_a_row_under_an_unknown_key_names_it_and_stops(
    runtime: Runtime, secret_key: str, tmp_path: Path
) -> None:
    seal_secrets(runtime)
    new_key = generate_secret()
    rotating = write_config(tmp_path, runtime.config.database_url, new_key, (secret_key,))
    assert main(["keys", "rewrap", "--config", rotating, "--max-rows", "1"]) == 0  # bob and carol left behind

    with pytest.raises(UnknownKeyRowsError) as refused:
        reopen(write_config(tmp_path, runtime.config.database_url, new_key), FakeClock())

    message = str(refused.value)
    assert "upstream_credentials.ciphertext: 2 row(s) (bob-subject/gh, carol-subject/gh)" in message
    assert "signing_keys" not in message  # rewrapped by the first run
    assert "tok-" not in message and secret_key not in message


def test_portico_serve_with_a_row_under_an_unknown_key_exits_with_a_message_not_a_traceback(
    runtime: Runtime, tmp_path: Path
) -> None:
    seal_secrets(runtime)
    stranger = write_config(tmp_path, runtime.config.database_url, generate_secret())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}

    result = subprocess.run(  # noqa: S603 - our own entry point
        [str(PORTICO), "serve", "--config", stranger], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "signing_keys.private_jwk_encrypted: 1 row(s)" in result.stderr
    assert (
        "upstream_credentials.ciphertext: 3 row(s) (alice-subject/gh, bob-subject/gh, carol-subject/gh)"
        in result.stderr
    )
    assert "portico keys rewrap" in result.stderr


def test_rewrap_reports_rows_it_cannot_open_and_can_delete_them(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seal_secrets(runtime)  # under a key the new configuration does not know at all
    stranger = write_config(tmp_path, runtime.config.database_url, generate_secret())

    assert main(["keys", "rewrap", "--config", stranger]) == 1
    assert "upstream_credentials.ciphertext: 0 re-encrypted, 3 unreadable" in capsys.readouterr().out
    assert main(["keys", "rewrap", "--config", stranger, "--delete-unreadable"]) == 0
    assert "upstream_credentials.ciphertext: 3 row(s) under an unknown key deleted" in capsys.readouterr().out

    after = reopen(stranger, FakeClock())  # starts: a new signing key replaces the unreadable one
    after.close()


async def test_rotate_signing_publishes_the_new_key_before_it_signs_and_keeps_the_old_one_verifying(
    runtime: Runtime,
    clock: FakeClock,
    http: httpx2.AsyncClient,
    tmp_path: Path,
    secret_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = write_config(tmp_path, runtime.config.database_url, secret_key)
    old_kid = runtime.signing_keys.signing_key.kid
    lifetime = runtime.config.oauth.access_token_lifetime
    clock.advance((datetime.now(UTC) - clock.now()).total_seconds())  # the command uses the wall clock

    assert main(["keys", "rotate-signing", "--config", config_file]) == 0
    out = capsys.readouterr().out
    assert main(["keys", "rotate-signing", "--config", config_file]) == 1  # one rotation at a time
    assert "already scheduled" in capsys.readouterr().err

    new_kid = out.split()[3]
    assert f"the old key {old_kid} signs until then" in out
    reload_signing_keys(runtime)  # what every instance does within a minute
    published = {key["kid"] for key in (await http.get("/jwks")).json()["keys"]}
    before = mint(runtime, clock)
    clock.advance(DEFAULT_ACTIVATE_IN + 1)  # no reload needed: the loaded keys switch on time
    after = mint(runtime, clock)
    reload_signing_keys(runtime)

    assert published == {old_kid, new_kid}
    keys = runtime.signing_keys.verification_keys
    assert jwt.decode(before, keys).header["kid"] == old_kid
    assert jwt.decode(after, keys).header["kid"] == new_kid
    for token in (before, after):  # the old key's token still verifies after the switch
        verify(runtime, token, clock)
    clock.advance(lifetime)
    reload_signing_keys(runtime)
    assert [key["kid"] for key in (await http.get("/jwks")).json()["keys"]] == [new_kid]


def mint(runtime: Runtime, clock: FakeClock) -> str:
    token, _claims = issue_access_token(
        runtime.signing_keys,
        issuer=runtime.config.public_url,
        subject="s",
        audience=AUDIENCE,
        client_id="c",
        scopes=set(),
        now=clock.now(),
        lifetime=runtime.config.oauth.access_token_lifetime,
    )
    return token


def verify(runtime: Runtime, token: str, clock: FakeClock) -> None:
    verify_access_token(
        token,
        verification_keys=runtime.signing_keys.verification_keys,
        issuer=runtime.config.public_url,
        audience=AUDIENCE,
        now=clock.now().timestamp(),
    )
