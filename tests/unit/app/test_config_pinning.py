"""``servers.<name>.pinning`` and ``new_tools``: documented defaults, errors at their key paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_config
from proxy.pinning import PinningPolicy, pinned_servers

VALID = "public_url: http://127.0.0.1:8080\nservers:\n"
SERVER = "  {name}:\n    transport: streamable-http\n    url: http://127.0.0.1:9/mcp\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portico.yaml"
    path.write_text(VALID + text)
    return path


def test_pinning_defaults_to_warn_with_new_tools_allowed(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, SERVER.format(name="a")), env={})
    assert (config.servers["a"].pinning, config.servers["a"].new_tools) == ("warn", "allow")
    assert pinned_servers(config) == {"a": PinningPolicy(mode="warn", hold_new=False)}


def test_a_server_with_pinning_off_gets_no_gate(tmp_path: Path) -> None:
    text = SERVER.format(name="a") + "    pinning: off\n" + SERVER.format(name="b")
    text += "    pinning: enforce\n    new_tools: hold\n"
    config = load_config(_write(tmp_path, text), env={})
    assert pinned_servers(config) == {"b": PinningPolicy(mode="enforce", hold_new=True)}


@pytest.mark.parametrize(("key", "value"), [("pinning", "strict"), ("new_tools", "deny")])
def test_an_unknown_value_is_refused_at_its_key_path(tmp_path: Path, key: str, value: str) -> None:
    path = _write(tmp_path, SERVER.format(name="a") + f"    {key}: {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.source == str(path)
    assert any(
        problem.key_path.startswith("servers.a") and key in problem.key_path for problem in caught.value.problems
    )
