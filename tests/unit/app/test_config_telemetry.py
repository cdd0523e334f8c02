"""The ``telemetry`` section: off by default, strict keys, secret headers (docs/configuration.md §telemetry)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from app.config import ConfigError, load_config
from app.config.schema import PorticoConfig
from app.main import _wrap
from app.observe import tracing
from app.observe.http_spans import AuthorizationSpans, route_of
from app.observe.tracing_setup import install

VALID = "public_url: http://127.0.0.1:8080\n"


def _load(tmp_path: Path, text: str) -> PorticoConfig:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID + text)
    return load_config(path, env={"OTLP_TOKEN": "s3cret-value"})


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return [problem.key_path for problem in caught.value.problems]


def test_tracing_is_off_without_an_endpoint_and_installs_nothing(tmp_path: Path) -> None:
    telemetry = _load(tmp_path, "").telemetry
    assert (telemetry.on, telemetry.sampling_ratio, telemetry.service_name) == (False, 1.0, "portico")
    installed = install(telemetry)
    assert installed.provider is None and tracing.ON is False


def test_enabled_false_turns_a_configured_endpoint_off(tmp_path: Path) -> None:
    text = "telemetry:\n  endpoint: http://collector:4318/v1/traces\n  enabled: false\n"
    assert _load(tmp_path, text).telemetry.on is False


def test_header_values_are_secrets_never_shown(tmp_path: Path) -> None:
    text = (
        "telemetry:\n  endpoint: https://otlp.example/v1/traces\n  headers:\n    authorization: Bearer ${OTLP_TOKEN}\n"
    )
    telemetry = _load(tmp_path, text).telemetry
    assert telemetry.on
    assert telemetry.headers["authorization"].get_secret_value() == "Bearer s3cret-value"
    assert "s3cret-value" not in repr(telemetry) and "s3cret-value" not in str(telemetry.model_dump())


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("telemetry:\n  endpoint: collector:4318\n", "telemetry.endpoint"),
        ("telemetry:\n  endpoint: ftp://collector/v1/traces\n", "telemetry.endpoint"),
        ("telemetry:\n  sampling_ratio: 1.5\n", "telemetry.sampling_ratio"),
        ("telemetry:\n  sampling_ratio: -0.1\n", "telemetry.sampling_ratio"),
        ("telemetry:\n  headers:\n    'bad header': x\n", "telemetry.headers"),
        ("telemetry:\n  sample_ratio: 0.5\n", "telemetry.sample_ratio"),
        ("telemetry:\n  timeout_seconds: 0\n", "telemetry.timeout_seconds"),
    ],
)
def test_a_wrong_telemetry_key_is_refused_at_its_key_path(tmp_path: Path, text: str, path: str) -> None:
    assert _problems(tmp_path, text) == [path]


def test_only_the_authorization_server_s_routes_get_spans() -> None:
    assert route_of("/authorize") == "/authorize"
    assert route_of("/token") == "/token"
    assert route_of("/login/callback/google") == "/login/callback/{provider}"
    assert route_of("/time/mcp") is None and route_of("/register") is None


def test_the_span_middleware_is_not_even_in_the_chain_when_tracing_is_off(tmp_path: Path) -> None:
    app = FastAPI()
    _wrap(app, _load(tmp_path, ""))
    assert AuthorizationSpans not in _classes(app)
    app = FastAPI()
    _wrap(app, _load(tmp_path, "telemetry:\n  endpoint: http://collector:4318/v1/traces\n"))
    assert AuthorizationSpans in _classes(app)


def _classes(app: FastAPI) -> list[object]:
    return [middleware.cls for middleware in app.user_middleware]
