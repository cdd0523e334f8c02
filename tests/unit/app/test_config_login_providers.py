"""``login.providers``: google, oidc and github entries, their ids, URLs and secrets; ``allowed_orgs``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import ConfigError, load_config
from app.config.schema import GithubProviderConfig, GoogleProviderConfig, OidcProviderConfig

GOOGLE = {"type": "google", "client_id": "123.apps.googleusercontent.com", "client_secret": "${GOOGLE_SECRET}"}
OIDC = {"type": "oidc", "issuer": "https://corp.okta.com", "client_id": "0oa1"}
GITHUB = {"type": "github", "client_id": "Iv1.abc", "client_secret": "gh-secret"}
ENV = {"GOOGLE_SECRET": "google-secret-value"}


def load(tmp_path: Path, login: dict[str, Any], public_url: str = "https://gw.example.com") -> Any:
    path = tmp_path / "portico.yaml"
    path.write_text(yaml.safe_dump({"public_url": public_url, "login": login}))
    return load_config(path, env=ENV)


def problems(tmp_path: Path, login: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, login)
    return [(p.key_path, p.message) for p in caught.value.problems]


def test_each_provider_type_loads_with_its_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, {"providers": [GOOGLE, OIDC, GITHUB], "allowed_domains": ["example.com"]})
    google, oidc, github = config.login.providers
    assert isinstance(google, GoogleProviderConfig) and isinstance(oidc, OidcProviderConfig)
    assert isinstance(github, GithubProviderConfig)
    assert (google.id, google.issuer, google.scopes) == (
        "google",
        "https://accounts.google.com",
        ["openid", "email", "profile"],
    )
    assert google.client_secret.get_secret_value() == "google-secret-value"
    assert (oidc.id, oidc.auth_method, oidc.email_claim, oidc.groups_claim) == ("oidc", "none", "email", "groups")
    assert (github.id, github.api_base_url, github.scopes) == (
        "github",
        "https://api.github.com",
        ["read:user", "user:email", "read:org"],
    )


def test_the_secret_never_shows_in_the_configuration_repr(tmp_path: Path) -> None:
    config = load(tmp_path, {"providers": [GOOGLE], "allowed_domains": ["example.com"]})
    assert "google-secret-value" not in repr(config) and "google-secret-value" not in str(config.login)


@pytest.mark.parametrize("provider_id", ["Google", "a_b", "-x", "x" * 33, "callback", "a/b"])
def test_a_provider_id_must_be_safe_and_unreserved(tmp_path: Path, provider_id: str) -> None:
    [(key_path, message)] = problems(tmp_path, {"providers": [{**GITHUB, "id": provider_id}], "allow_any_user": True})
    assert key_path == "login.providers.0.id"
    assert "must match" in message or "reserved" in message


def test_provider_ids_must_be_unique(tmp_path: Path) -> None:
    login = {"providers": [GITHUB, {**OIDC, "id": "github"}], "allow_any_user": True}
    [(key_path, message)] = problems(tmp_path, login)
    assert key_path == "login.providers"
    assert "used twice" in message


@pytest.mark.parametrize(
    ("provider", "key"),
    [
        ({**OIDC, "issuer": "http://corp.okta.com"}, "issuer"),
        ({**OIDC, "jwks_uri": "ftp://corp.okta.com/keys"}, "jwks_uri"),
        ({**OIDC, "userinfo_url": "https://user:pw@corp.okta.com/userinfo"}, "userinfo_url"),
        ({**GOOGLE, "token_url": "http://oauth2.googleapis.com/token"}, "token_url"),
        ({**GITHUB, "api_base_url": "http://api.github.com"}, "api_base_url"),
    ],
)
def test_endpoint_urls_must_be_https_unless_loopback(tmp_path: Path, provider: dict[str, Any], key: str) -> None:
    [(key_path, _message)] = problems(tmp_path, {"providers": [provider], "allow_any_user": True})
    assert key_path == f"login.providers.0.{key}"


def test_loopback_endpoints_may_use_http(tmp_path: Path) -> None:
    provider = {**OIDC, "issuer": "http://127.0.0.1:9000", "token_url": "http://localhost:9000/token"}
    assert load(tmp_path, {"providers": [provider], "allow_any_user": True}).login.providers[0].issuer


def test_an_openid_provider_must_request_the_openid_scope(tmp_path: Path) -> None:
    [(key_path, message)] = problems(tmp_path, {"providers": [{**OIDC, "scopes": ["email"]}], "allow_any_user": True})
    assert (key_path, message) == ("login.providers.0.scopes", "must include openid")


def test_client_secret_authentication_needs_a_secret(tmp_path: Path) -> None:
    provider = {**OIDC, "token_endpoint_auth_method": "client_secret_post"}
    [(key_path, message)] = problems(tmp_path, {"providers": [provider], "allow_any_user": True})
    assert key_path == "login.providers.0" and "needs a client_secret" in message


def test_google_and_github_need_a_client_secret_and_misspelt_keys_get_a_suggestion(tmp_path: Path) -> None:
    google = {k: v for k, v in GOOGLE.items() if k != "client_secret"} | {"hosted_domian": "example.com"}
    found = dict(problems(tmp_path, {"providers": [google], "allow_any_user": True}))
    assert found["login.providers.0.client_secret"] == "required key is missing"
    assert found["login.providers.0.hosted_domian"] == "unknown key; did you mean 'hosted_domain'?"


def test_allowed_orgs_counts_as_an_access_rule(tmp_path: Path) -> None:
    assert load(tmp_path, {"providers": [GITHUB], "allowed_orgs": ["acme"]}).login.allowed_orgs == ["acme"]
    [(key_path, message)] = problems(tmp_path, {"providers": [GITHUB]})
    assert key_path == "login" and "allowed_orgs" in message


def test_hosted_domain_must_be_a_domain_and_is_lower_cased(tmp_path: Path) -> None:
    config = load(tmp_path, {"providers": [{**GOOGLE, "hosted_domain": "Example.COM"}], "allow_any_user": True})
    assert config.login.providers[0].hosted_domain == "example.com"
    [(key_path, _message)] = problems(
        tmp_path, {"providers": [{**GOOGLE, "hosted_domain": "@x"}], "allow_any_user": True}
    )
    assert key_path == "login.providers.0.hosted_domain"


def test_the_google_workspace_example_is_valid() -> None:
    env = {"PORTICO_SECRET_KEY": "k" * 44, "GOOGLE_CLIENT_SECRET": "GOCSPX-example"}
    config = load_config(Path("examples/google-workspace.yaml"), env=env)
    [google] = config.login.providers
    assert isinstance(google, GoogleProviderConfig)
    assert (google.hosted_domain, config.login.allowed_domains) == ("yourcompany.com", ["yourcompany.com"])
