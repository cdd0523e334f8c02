"""Where the root secret key comes from, and the loopback-only generated fallback."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from app.config import PorticoConfig
from app.crypto import RootKeyError, generate_secret, load_root_keys


def config(tmp_path: Path, public_url: str = "http://127.0.0.1:8080", **secrets: object) -> PorticoConfig:
    data = {"generated_key_file": str(tmp_path / "keys" / "secret.key"), **secrets}
    return PorticoConfig.model_validate({"public_url": public_url, "secrets": data})


def test_loopback_without_a_key_generates_one_into_a_private_file(tmp_path: Path) -> None:
    first = load_root_keys(config(tmp_path), env={})
    key_file = tmp_path / "keys" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_root_keys(config(tmp_path), env={}) == first
    assert len(first[0]) == 32


def test_public_deployment_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(RootKeyError, match="PORTICO_SECRET_KEY"):
        load_root_keys(config(tmp_path, "https://gw.example.com"), env={})
    assert not (tmp_path / "keys").exists()


def test_environment_key_is_used_when_config_has_none(tmp_path: Path) -> None:
    key = generate_secret()
    [root] = load_root_keys(config(tmp_path, "https://gw.example.com"), env={"PORTICO_SECRET_KEY": key})
    assert base64.urlsafe_b64encode(root).decode().rstrip("=") == key


def test_key_file_from_environment_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text(generate_secret() + "\n")
    roots = load_root_keys(config(tmp_path, "https://gw.example.com"), env={"PORTICO_SECRET_KEY_FILE": str(key_file)})
    assert len(roots) == 1


def test_short_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    short = base64.b64encode(b"s" * 16).decode()
    with pytest.raises(RootKeyError) as caught:
        load_root_keys(config(tmp_path, secret_key=short), env={})
    assert short not in str(caught.value)
    assert "32 bytes" in str(caught.value)


def test_non_base64_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RootKeyError, match="base64"):
        load_root_keys(config(tmp_path, secret_key="not base64 at all!!"), env={})


def test_previous_keys_follow_the_current_one(tmp_path: Path) -> None:
    current, previous = generate_secret(), generate_secret()
    roots = load_root_keys(config(tmp_path, secret_key=current, previous_keys=[previous]), env={})
    assert len(roots) == 2
