"""``servers.<name>.credentials``: the kinds, their shorthand and the checks (our own schema)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.config import PorticoConfig
from app.config.schema import (
    NoCredentialsConfig,
    OAuthCredentialsConfig,
    StaticCredentialsConfig,
    UserTokenConfig,
)


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
        ({**STDIO, "args": ["--key", "{token}"]}, "args contain {token}"),
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


def test_a_stdio_user_token_may_travel_in_an_args_template_instead_of_env() -> None:
    server = config({**STDIO, "args": ["--key={token}"], "credentials": {"type": "user_token"}}).servers["s"]
    assert isinstance(server.credentials, UserTokenConfig) and server.credentials.env is None


OAUTH = {
    "type": "oauth",
    "client_id": "portico",
    "client_secret": "s3cret",
    "authorization_endpoint": "https://as.example.com/authorize",
    "token_endpoint": "https://as.example.com/token",
}


def test_oauth_defaults_to_a_bearer_authorization_header_and_basic_client_authentication() -> None:
    server = config({**HTTP, "credentials": OAUTH}).servers["s"]
    assert isinstance(server.credentials, OAuthCredentialsConfig)
    assert server.oauth is server.per_user is server.credentials
    assert server.user_token is None
    assert server.credentials.render("at") == "Bearer at"
    assert server.credentials.auth_method == "client_secret_basic"
    assert server.credentials.refresh_margin == 60


def test_oauth_with_an_issuer_needs_no_endpoints_and_a_public_client_no_secret() -> None:
    creds = {
        "type": "oauth",
        "client_id": "p",
        "issuer": "https://as.example.com",
        "scopes": ["read", "offline_access"],
    }
    server = config({**STDIO, "credentials": {**creds, "env": "API_TOKEN", "format": "{token}"}}).servers["s"]
    assert isinstance(server.credentials, OAuthCredentialsConfig)
    assert server.credentials.auth_method == "none"


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ({**HTTP, "credentials": {**OAUTH, "token_endpoint": None}}, "set issuer"),
        (
            {
                **HTTP,
                "credentials": {**OAUTH, "client_secret": None, "token_endpoint_auth_method": "client_secret_post"},
            },
            "needs client_secret",
        ),
        ({**HTTP, "credentials": {**OAUTH, "token_endpoint_auth_method": "none"}}, "takes no client_secret"),
        ({**HTTP, "credentials": {**OAUTH, "token_endpoint": "http://as.example.com/token"}}, "https"),
        ({**HTTP, "credentials": {**OAUTH, "scopes": ["a b"]}}, "scope token"),
        ({**HTTP, "credentials": {**OAUTH, "format": "Bearer"}}, "{token}"),
        ({**HTTP, "credentials": {**OAUTH, "env": "T"}}, "env is for stdio"),
        ({**STDIO, "credentials": OAUTH}, "credentials.env must name"),
        ({**STDIO, "isolation": "shared", "credentials": {**OAUTH, "env": "T"}}, "(oauth)"),
        ({**HTTP, "headers": {"authorization": "x"}, "credentials": OAUTH}, "also a configured header"),
        ({**HTTP, "credentials": {**OAUTH, "clientid": "x"}}, "Extra inputs are not permitted"),
        ({**HTTP, "credentials": {**OAUTH, "registration": "cimd"}}, "registration applies to discover: true"),
        ({**HTTP, "credentials": {"type": "oauth", "discover": True, "registration": "x"}}, "'auto', 'cimd' or 'dcr'"),
    ],
)
def test_invalid_oauth_credentials_stop_startup_with_a_clear_error(server: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        config(server)
    assert fragment in str(raised.value)


def test_discover_needs_no_client_and_takes_none() -> None:
    server = config({**HTTP, "credentials": {"type": "oauth", "discover": True}}).servers["s"]
    assert isinstance(server.credentials, OAuthCredentialsConfig) and server.credentials.discover
    with pytest.raises(ValidationError) as configured:
        config({**HTTP, "credentials": {**OAUTH, "discover": True}})
    with pytest.raises(ValidationError) as stdio:
        config({**STDIO, "credentials": {"type": "oauth", "discover": True, "env": "T"}})
    with pytest.raises(ValidationError) as no_client:
        config({**HTTP, "credentials": {"type": "oauth", "issuer": "https://as.example.com"}})
    assert "remove client_id, client_secret, authorization_endpoint, token_endpoint" in str(configured.value)
    assert "discover is for HTTP upstreams" in str(stdio.value)
    assert "client_id is required" in str(no_client.value)


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ({**HTTP, "credentials": {"type": "static", "groups": {"eng": {"bad header": "v"}}}}, "not an HTTP header"),
        ({**STDIO, "credentials": {"type": "static", "groups": {"eng": {"1X": "v"}}}}, "not an environment variable"),
        ({**STDIO, "isolation": "shared", "credentials": {"type": "static", "groups": {"eng": {"K": "v"}}}}, "shared"),
        ({**STDIO, "credentials": {"type": "user_token", "env": "T", "groups": {" ": "v"}}}, "must not be empty"),
    ],
)
def test_invalid_group_values_stop_startup_with_a_clear_error(server: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        config(server)
    assert fragment in str(raised.value)


def test_group_and_default_values_are_secrets() -> None:
    creds = {"type": "user_token", "env": "T", "groups": {"eng": "g-token"}, "default": "d-token"}
    server = config({**STDIO, "credentials": creds}).servers["s"]
    assert "g-token" not in repr(server) and "d-token" not in repr(server)
