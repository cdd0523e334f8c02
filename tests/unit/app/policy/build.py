"""Build a :class:`RulePolicy` from plain data, as a configuration file would give it."""

from __future__ import annotations

from typing import Any

from app.config.schema import PorticoConfig
from app.policy.engine import RulePolicy
from app.policy.principal import Principal

SERVER_NAMES = ("github", "docs", "jira")


def config(policy: dict[str, Any] | None = None, tools: dict[str, dict[str, Any]] | None = None) -> PorticoConfig:
    servers = {
        name: {"transport": "streamable-http", "url": f"https://{name}.example/mcp"}
        | ({"tools": (tools or {})[name]} if name in (tools or {}) else {})
        for name in SERVER_NAMES
    }
    return PorticoConfig.model_validate(
        {"public_url": "https://gw.example.com", "servers": servers, "policy": policy or {}}
    )


def policy(
    rules: list[dict[str, Any]], default: str = "allow", tools: dict[str, dict[str, Any]] | None = None
) -> RulePolicy:
    return RulePolicy.from_config(config({"default": default, "rules": rules}, tools))


def person(
    email: str | None = "ann@example.com", groups: tuple[str, ...] = (), client_id: str = "client-1"
) -> Principal:
    return Principal(subject=f"sub-{email}", email=email, groups=groups, client_id=client_id)
