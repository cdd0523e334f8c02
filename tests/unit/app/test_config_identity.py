"""``servers.<name>.identity``: defaults, where it is allowed, and header clashes (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import ConfigError, load_config
from app.config.schema import AutoServerConfig, StreamableHttpServerConfig

HTTP = {"transport": "streamable-http", "url": "https://tools.internal.example.com/mcp"}


def load(tmp_path: Path, server: dict[str, Any]) -> StreamableHttpServerConfig:
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump({"public_url": "http://127.0.0.1:8080", "servers": {"tools": server}}))
    spec = load_config(path, env={}).servers["tools"]
    assert isinstance(spec, StreamableHttpServerConfig)
    return spec


def problems(tmp_path: Path, server: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, server)
    assert caught.value.source.endswith("portico.yaml")
    return [(p.key_path, p.message) for p in caught.value.problems]


def test_identity_defaults_to_its_own_header_and_five_minutes(tmp_path: Path) -> None:
    identity = load(tmp_path, {**HTTP, "identity": {}}).identity
    assert identity is not None
    assert (identity.header, identity.lifetime, identity.is_authorization) == ("X-Portico-Identity", 300, False)
    assert identity.render("a.b.c") == "a.b.c"


def test_identity_in_authorization_is_rendered_as_a_bearer_credential(tmp_path: Path) -> None:
    identity = load(tmp_path, {**HTTP, "credentials": "none", "identity": {"header": "authorization"}}).identity
    assert identity is not None and identity.render("a.b.c") == "Bearer a.b.c"


def test_identity_is_allowed_on_transport_auto(tmp_path: Path) -> None:
    spec = load(tmp_path, {**HTTP, "transport": "auto", "identity": {"lifetime": 60}})
    assert isinstance(spec, AutoServerConfig) and spec.identity is not None and spec.identity.lifetime == 60


def test_a_server_without_identity_sends_none(tmp_path: Path) -> None:
    assert load(tmp_path, HTTP).identity is None


def test_identity_on_a_stdio_server_is_an_error_at_its_key_path(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, {"transport": "stdio", "command": "srv", "identity": {}})
    assert key_path == "servers.tools.identity"
    assert "for HTTP upstreams" in message


def test_identity_on_a_legacy_sse_server_is_an_error_at_its_key_path(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, {**HTTP, "transport": "sse", "identity": {}})
    assert key_path == "servers.tools.identity"
    assert "not available on transport 'sse'" in message


@pytest.mark.parametrize(
    ("server", "other"),
    [
        ({"credentials": {"type": "user_token"}}, "credentials.header (default Authorization)"),
        ({"credentials": {"type": "user_token", "header": "AUTHORIZATION"}}, "credentials.header"),
        ({"headers": {"Authorization": "Bearer s3cret-value"}}, "headers.Authorization"),
        ({"credentials": {"type": "static", "groups": {"ops": {"authorization": "x"}}}}, "credentials.groups.ops"),
    ],
)
def test_identity_in_authorization_that_a_credential_also_sets_names_both_key_paths(
    tmp_path: Path, server: dict[str, Any], other: str
) -> None:
    [(key_path, message)] = problems(tmp_path, {**HTTP, **server, "identity": {"header": "Authorization"}})
    assert key_path == "servers.tools"
    assert message.startswith("identity.header 'Authorization' is also set by ")
    assert other in message
    assert "s3cret-value" not in message


def test_a_custom_identity_header_may_not_repeat_a_configured_header(tmp_path: Path) -> None:
    server = {**HTTP, "headers": {"x-portico-identity": "v"}, "identity": {}}
    [(_key_path, message)] = problems(tmp_path, server)
    assert "headers.x-portico-identity" in message


@pytest.mark.parametrize(
    ("identity", "key", "fragment"),
    [
        ({"header": "bad header"}, "header", "not an HTTP header name"),
        ({"lifetime": 10}, "lifetime", "greater than or equal to 30"),
        ({"lifetime": 7200}, "lifetime", "less than or equal to 3600"),
        ({"audience": "x"}, "audience", "unknown key"),
    ],
)
def test_invalid_identity_settings_name_their_key_path(
    tmp_path: Path, identity: dict[str, Any], key: str, fragment: str
) -> None:
    [(key_path, message)] = problems(tmp_path, {**HTTP, "identity": identity})
    assert key_path == f"servers.tools.identity.{key}"
    assert fragment in message
