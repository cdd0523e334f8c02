"""``limits.rules`` and ``limits.quotas``: rate limits and quotas keyed on identity (docs/configuration.md
§``limits``, docs/limits.md).

A rule is a token bucket (``rate`` tokens refilled per second/minute/hour/day, at most ``burst``
kept) counted per ``key`` — the user, the OAuth client, the user on one server or tool, the server,
or the client's address — over a scope: MCP servers (names or globs), optionally narrowed to
``tools`` (globs; then only ``tools/call`` counts), or authorization-server endpoints. A quota
counts a user's ``tools/call`` per UTC day or month. Server names that are not globs are checked
against the configured servers by :func:`limits_problems` once the whole file is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.config.errors import ConfigProblem
from app.config.policy import is_glob
from app.config.strict import Strict
from app.config.suggest import closest_key

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "LimitKey",
    "QuotaConfig",
    "RateLimitRuleConfig",
    "limits_problems",
]

LimitKey = Literal["user", "client", "user+server", "user+tool", "server", "client_address"]
Endpoint = Literal["/register", "/token", "/authorize", "sign-in"]
ENDPOINTS: tuple[Endpoint, ...] = ("/register", "/token", "/authorize", "sign-in")
RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
"""Rule names are metric label values and error data: short, lower case, no spaces."""

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(second|minute|hour|day)\s*$")
_UNIT_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def parse_rate(text: str) -> tuple[float, str]:
    """``"10/minute"`` → ``(10.0, "minute")``. Raises ValueError for anything else or a zero count."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a rate such as 10/minute (per second, minute, hour or day)")
    count = float(match.group(1))
    if count <= 0:
        raise ValueError("the count of a rate must be more than 0")
    return count, match.group(2)


def _check_name(value: str) -> str:
    if not RULE_NAME.match(value):
        raise ValueError(f"{value!r} must match {RULE_NAME.pattern} (it is a metric label)")
    if value.startswith("default-"):
        raise ValueError("names starting with 'default-' are the built-in endpoint rules'")
    return value


class RateLimitRuleConfig(Strict):
    """``limits.rules[i]``: one token bucket per ``key`` value over a scope (``servers`` or ``endpoints``).

    ``burst`` defaults to the rate's count (``10/minute`` keeps at most 10 tokens).
    """

    name: str
    key: LimitKey
    rate: str
    burst: int | None = Field(default=None, gt=0)
    servers: list[str] | None = Field(default=None, min_length=1)
    tools: list[str] | None = Field(default=None, min_length=1)
    endpoints: list[Endpoint] | None = Field(default=None, min_length=1)

    _check_name = field_validator("name")(_check_name)

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @model_validator(mode="after")
    def _one_scope(self) -> RateLimitRuleConfig:
        if (self.servers is None) == (self.endpoints is None):
            raise ValueError("a rule needs either servers (MCP requests) or endpoints (authorization server)")
        if self.endpoints is not None:
            if self.tools is not None:
                raise ValueError("tools apply to servers, not to endpoints")
            if self.key != "client_address":
                raise ValueError("endpoint rules are keyed on client_address (no user or client is known yet)")
        return self

    @property
    def per_second(self) -> float:
        """Tokens refilled per second."""
        count, unit = parse_rate(self.rate)
        return count / _UNIT_SECONDS[unit]

    @property
    def capacity(self) -> int:
        """``burst``, else the rate's count rounded up (at least 1)."""
        return self.burst if self.burst is not None else max(1, math.ceil(parse_rate(self.rate)[0]))


class QuotaConfig(Strict):
    """``limits.quotas[i]``: at most ``calls`` ``tools/call`` per user per UTC ``per`` (day or month).

    Counted over the ``servers`` (names or globs, default all) and ``tools`` (globs, default all).
    """

    name: str
    per: Literal["day", "month"]
    calls: int = Field(gt=0)
    servers: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    tools: list[str] | None = Field(default=None, min_length=1)

    _check_name = field_validator("name")(_check_name)


def unique_names(rules: list[RateLimitRuleConfig], quotas: list[QuotaConfig]) -> None:
    """Raises ValueError naming the first rule or quota name used twice (names are what errors report)."""
    seen: set[str] = set()
    for name in [r.name for r in rules] + [q.name for q in quotas]:
        if name in seen:
            raise ValueError(f"the name {name!r} is used twice in limits.rules / limits.quotas")
        seen.add(name)


def limits_problems(
    rules: list[RateLimitRuleConfig], quotas: list[QuotaConfig], servers: Collection[str]
) -> list[ConfigProblem]:
    """Each ``limits.rules.<i>.servers`` / ``limits.quotas.<i>.servers`` entry that is not a glob and
    names no configured server; the message proposes the closest configured name."""
    valid = sorted(servers)
    problems: list[ConfigProblem] = []
    scoped: list[tuple[str, list[str]]] = [(f"limits.rules.{i}", r.servers or []) for i, r in enumerate(rules)]
    scoped += [(f"limits.quotas.{i}", q.servers) for i, q in enumerate(quotas)]
    for path, names in scoped:
        for index, name in enumerate(names):
            if is_glob(name) or name in servers:
                continue
            hint = closest_key(name, valid)
            suffix = f"; did you mean '{hint}'?" if hint else ""
            problems.append(ConfigProblem(f"{path}.servers.{index}", f"no server named {name!r}{suffix}"))
    return problems
