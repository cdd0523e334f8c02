"""Configuration loading: errors name the file, the key path and a suggestion, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.config import ConfigError, load_config

VALID = "public_url: http://127.0.0.1:8080\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portico.yaml"
    path.write_text(text)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    assert caught.value.source == str(path)
    return [(p.key_path, p.message) for p in caught.value.problems]


def test_quickstart_configuration_is_valid() -> None:
    config = load_config(Path("examples/quickstart.yaml"), env={})
    assert config.public_url == "http://127.0.0.1:8080"
    assert "time" in config.servers


def test_misspelt_top_level_key_names_the_closest_valid_key(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "listn:\n  port: 9000\n")
    assert problems(path) == [("listn", "unknown key; did you mean 'listen'?")]


def test_misspelt_key_inside_a_server_reports_the_full_key_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, VALID + "servers:\n  github:\n    transport: streamable-http\n    urll: https://x.test/mcp\n"
    )
    found = dict(problems(path))
    assert found["servers.github.urll"] == "unknown key; did you mean 'url'?"
    assert found["servers.github.url"] == "required key is missing"


def test_wrong_type_names_the_key_path_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "listen:\n  port: eighty\n")
    [(key_path, message)] = problems(path)
    assert key_path == "listen.port"
    assert "integer" in message


def test_environment_references_are_expanded_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "public_url: ${URL}\ndatabase_url: ${DB:-sqlite:///./x.db}\n")
    config = load_config(path, env={"URL": "https://gw.example.com"})
    assert (config.public_url, config.database_url) == ("https://gw.example.com", "sqlite:///./x.db")


def test_unset_environment_reference_is_an_error_at_its_key_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, VALID + "servers:\n  s:\n    transport: stdio\n    command: x\n    env:\n      TOKEN: ${GH}\n"
    )
    assert problems(path) == [("servers.s.env.TOKEN", "environment variable GH is not set (write ${GH:-default})")]


def test_secret_values_never_appear_in_error_messages(tmp_path: Path) -> None:
    secret = "ghp_supersecretvalue123456"
    path = write(
        tmp_path, VALID + f"listen:\n  port: {secret}\nservers:\n  s:\n    transport: sse\n    url: {secret}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert secret not in str(caught.value)


def test_yaml_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "listen: [unclosed\n")
    [(key_path, message)] = problems(path)
    assert key_path == ""
    assert message.startswith("line ")


@pytest.mark.parametrize(
    ("public_url", "fragment"),
    [
        ("http://gateway.example.com", "https"),
        ("https://gateway.example.com/", "trailing slash"),
        ("https://gateway.example.com/mcp", "origin"),
        ("gateway.example.com", "http(s) URL"),
    ],
)
def test_public_url_must_be_an_https_origin_unless_loopback(tmp_path: Path, public_url: str, fragment: str) -> None:
    [(key_path, message)] = problems(write(tmp_path, f"public_url: {public_url}\n"))
    assert key_path == "public_url"
    assert fragment in message


@pytest.mark.parametrize("name", ["GitHub", "has_underscore", "-leading", "token", "authorize"])
def test_invalid_or_reserved_server_names_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, VALID + f"servers:\n  {name}:\n    transport: stdio\n    command: x\n")
    [(key_path, _message)] = problems(path)
    assert key_path == "servers"


def test_dev_sign_in_is_refused_on_a_public_url(tmp_path: Path) -> None:
    text = "public_url: https://gw.example.com\nlogin:\n  providers: [{type: dev}]\n  allowed_domains: [example.com]\n"
    [(_key_path, message)] = problems(write(tmp_path, text))
    assert "loopback" in message


def test_providers_without_any_access_rule_are_refused(tmp_path: Path) -> None:
    text = VALID + "login:\n  providers: [{type: dev}]\n"
    [(key_path, message)] = problems(write(tmp_path, text))
    assert key_path == "login"
    assert "allow_any_user" in message


def test_check_config_exits_1_and_prints_file_key_path_and_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        VALID + "servers:\n  github:\n    transport: streamable-http\n    url: https://x.test/mcp\n    titel: GitHub\n",
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: servers.github.titel: unknown key; did you mean 'title'?" in err


def test_check_config_exits_0_on_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(write(tmp_path, VALID))]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")


def test_missing_file_is_reported_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read file" in capsys.readouterr().err
