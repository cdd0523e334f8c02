"""Load and validate the configuration file.

Errors name the file, the dotted key path, what was expected and, for a misspelt key, the
closest valid one. No configured value ever appears in an error (values may be secrets).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from app.config.errors import ConfigError, ConfigProblem
from app.config.expand import expand_tree
from app.config.policy import policy_problems
from app.config.rate_limits import limits_problems
from app.config.schema import PorticoConfig
from app.config.suggest import closest_key, fields_at
from app.config.yaml_source import DuplicateKeyError, load_unique_yaml

CONFIG_ENV = "PORTICO_CONFIG"
DEFAULT_CONFIG = Path("examples/quickstart.yaml")


def resolve_config_path(path: str | Path | None, env: Mapping[str, str] | None = None) -> Path:
    """``--config`` wins over ``PORTICO_CONFIG``, which wins over the quickstart file."""
    environ = os.environ if env is None else env
    return Path(path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> PorticoConfig:
    """Read, expand and validate a configuration file.

    Raises:
        ConfigError: unreadable file, YAML syntax error, unset variable, or schema violation.
    """
    source = Path(path)
    raw = _read_yaml(source)
    expanded, problems = expand_tree(raw, os.environ if env is None else env)
    if problems:
        raise ConfigError(source, problems)
    try:
        config = PorticoConfig.model_validate(expanded)
    except ValidationError as error:
        raise ConfigError(source, [_problem(e, expanded) for e in error.errors(include_input=False)]) from None
    references = policy_problems(config.policy, config.servers)
    references += limits_problems(config.limits.rules, config.limits.quotas, config.servers)
    if references:
        raise ConfigError(source, references)
    return config


def _read_yaml(source: Path) -> dict[str, Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, [ConfigProblem("", f"cannot read file: {error.strerror}")]) from None
    try:
        data = load_unique_yaml(text)
    except DuplicateKeyError as error:
        problems = [
            ConfigProblem(d.key_path, f"duplicate key: first at line {d.first_line}, again at line {d.line}")
            for d in error.duplicates
        ]
        raise ConfigError(source, problems) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(source, [ConfigProblem("", f"{where}{problem}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem("", "the file must contain a mapping of keys")])
    return data


def _problem(error: ErrorDetails, data: Any) -> ConfigProblem:
    path = _data_path(error["loc"], data)
    key_path = ".".join(path)
    if error["type"] == "extra_forbidden":
        valid = fields_at(PorticoConfig, path[:-1], data)
        hint = closest_key(path[-1], valid)
        suffix = f"; did you mean '{hint}'?" if hint else ""
        return ConfigProblem(key_path, f"unknown key{suffix}")
    if error["type"] == "missing":
        return ConfigProblem(key_path, "required key is missing")
    message = error["msg"].removeprefix("Value error, ")
    return ConfigProblem(key_path, message)


def _data_path(loc: tuple[int | str, ...], data: Any) -> list[str]:
    """Drop the union tags pydantic inserts into ``loc`` so the path matches the file."""
    path: list[str] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict | list) and _is_tag(part, node):
            continue
        else:
            node = None
        path.append(str(part))
    return path


def _is_tag(part: int | str, node: dict[str, Any] | list[Any]) -> bool:
    return isinstance(node, dict) and isinstance(part, str) and part in (node.get("transport"), node.get("type"))
