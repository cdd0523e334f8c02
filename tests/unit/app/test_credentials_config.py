"""``servers.<name>.credentials``: the kinds, their shorthand and the checks (our own schema)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.config import PorticoConfig
from app.config.schema import NoCredentialsConfig, StaticCredentialsConfig, UserTokenConfig


def config(server: dict[str, Any]) -> PorticoConfig:
    return PorticoConfig.model_validate({"public_url": "http://127.0.0.1:8080", "servers": {"s": server}})


HTTP = {"transport": "streamable-http", "url": "https://api.example.com/mcp"}
STDIO = {"transport": "stdio", "command": "server"}


def test_credentials_default_to_static_and_accept_a_bare_kind() -> None:
    assert isinstance(config(HTTP).servers["s"].credentials, StaticCredentialsConfig)
    assert isinstance(config({**HTTP, "credentials": "none"}).servers["s"].credentials, NoCredentialsConfig)


def test_user_token_for_http_renders_through_its_format() -> None:
    server = config(
        {**HTTP, "credentials": {"type": "user_token", "format": "Bearer {token}", "pattern": "ghp_[A-Za-z0-9]+"}}
    ).servers["s"]
    assert isinstance(server.credentials, UserTokenConfig)
    assert server.credentials.render("ghp_x") == "Bearer ghp_x"


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ({**STDIO, "credentials": {"type": "user_token"}}, "credentials.env must name"),
        ({**STDIO, "credentials": {"type": "user_token", "env": "T", "header": "X"}}, "header is for HTTP"),
        ({**HTTP, "credentials": {"type": "user_token", "env": "T"}}, "env is for stdio"),
        ({**HTTP, "credentials": {"type": "user_token", "format": "Bearer"}}, "{token}"),
        ({**HTTP, "credentials": {"type": "user_token", "pattern": "("}}, "not a valid regular expression"),
        ({**HTTP, "credentials": {"type": "user_token", "header": "bad header"}}, "not an HTTP header"),
        ({**STDIO, "credentials": {"type": "user_token", "env": "1X"}}, "not an environment variable"),
        ({**STDIO, "isolation": "shared", "credentials": {"type": "user_token", "env": "T"}}, "shared"),
        ({**HTTP, "credentials": "none", "headers": {"X": "v"}}, "takes no headers"),
        ({**HTTP, "credentials": {"type": "oauth2"}}, "does not match any of the expected tags"),
        ({**HTTP, "credentials": {"type": "user_token", "helptext": "x"}}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_credentials_stop_startup_with_a_clear_error(server: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=None) as raised:
        config(server)
    assert fragment in str(raised.value)
