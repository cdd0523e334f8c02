"""The configured rules and quotas compiled for enforcement: per server (MCP) and per endpoint (AS).

Compiled once at startup, so the hot path only looks things up: a server no rule names has no
:class:`ServerLimits` at all, and a ``tools/call`` finds its rules in a per-tool memo. Store keys:
``r:<rule>␟<key value…>`` for buckets, ``q:<quota>␟<window>␟<subject>`` for quota windows
(␟ = U+001F, which no server name holds). docs/limits.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.config.rate_limits import ENDPOINTS, Endpoint, LimitKey, QuotaConfig, RateLimitRuleConfig
from app.limits.addresses import client_key
from app.limits.buckets import Bucket, Counter, Item
from app.policy.globs import Globs

SEP = "\x1f"
_MEMO_SIZE = 4096  # distinct tool names remembered per server (beyond: computed each time, still local)

DEFAULT_ENDPOINT_RATES: dict[Endpoint, tuple[str, float, int]] = {
    # endpoint: (rule name, tokens per second, burst) — per client address; see docs/limits.md
    # generous: one cloud client's backend exchanges and refreshes tokens for all its users from few addresses
    "/register": ("default-register", 20 / 60, 20),
    "/token": ("default-token", 600 / 60, 300),
    "/authorize": ("default-authorize", 300 / 60, 100),
    "sign-in": ("default-sign-in", 120 / 60, 60),
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who makes a request: token ``sub`` and ``client_id`` (None before sign-in), client address."""

    subject: str | None
    client_id: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled token-bucket rule; ``tools`` None: every request of the scope counts."""

    name: str
    key: LimitKey
    rate: float
    burst: int
    tools: Globs | None = None
    text: str = ""  # the rate as configured (``60/minute``), for explain

    @classmethod
    def of(cls, config: RateLimitRuleConfig) -> Rule:
        tools = Globs(config.tools) if config.tools is not None else None
        return cls(config.name, config.key, config.per_second, config.capacity, tools, config.rate.replace(" ", ""))

    @property
    def calls_only(self) -> bool:
        """True when only ``tools/call`` counts (``tools`` given, or keyed per tool)."""
        return self.tools is not None or self.key == "user+tool"

    def covers_tool(self, tool: str) -> bool:
        return self.tools is None or self.tools.matches(tool)

    def bucket(self, server: str, tool: str | None, who: Identity) -> Bucket:
        """This rule's bucket for the request (an absent identity part keys as ``-``)."""
        parts = {
            "user": (who.subject,),
            "client": (who.client_id,),
            "user+server": (who.subject, server),
            "user+tool": (who.subject, server, tool),
            "server": (server,),
            "client_address": (client_key(who.address),),
        }[self.key]
        key = SEP.join(["r:" + self.name, *(p if p is not None else "-" for p in parts)])
        return Bucket(key, self.rate, self.burst, self.name)


@dataclass(frozen=True, slots=True)
class Quota:
    """One compiled quota: ``calls`` ``tools/call`` per user per UTC ``per``."""

    name: str
    per: str
    calls: int
    tools: Globs | None

    def counter(self, subject: str | None, now: datetime) -> Counter:
        window, end = quota_window(self.per, now)
        key = SEP.join(["q:" + self.name, window, subject or "-"])
        return Counter(key, self.calls, end.timestamp(), self.name)


def quota_window(per: str, now: datetime) -> tuple[str, datetime]:
    """The UTC window holding ``now`` (``2026-12-04`` / ``2026-12``) and its end (the next one's start)."""
    now = now.astimezone(UTC)
    if per == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.strftime("%Y-%m-%d"), datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return now.strftime("%Y-%m"), datetime(year, month, 1, tzinfo=UTC)


class ServerLimits:
    """The rules and quotas of one server; :meth:`items` is what a request must take."""

    __slots__ = ("_calls", "_every", "_memo", "_quotas", "server")

    def __init__(self, server: str, rules: list[Rule], quotas: list[Quota]) -> None:
        self.server = server
        self._every = tuple(r for r in rules if not r.calls_only)
        self._calls = tuple(r for r in rules if r.calls_only)
        self._quotas = tuple(quotas)
        self._memo: dict[str, tuple[tuple[Rule, ...], tuple[Quota, ...]]] = {}

    def rules_for(self, method: str, tool: str | None) -> tuple[tuple[Rule, ...], tuple[Quota, ...]]:
        """The rules and quotas that count a ``method`` request (``tool``: a ``tools/call``'s name)."""
        if method != "tools/call" or tool is None:
            return self._every, ()
        found = self._memo.get(tool)
        if found is None:
            rules = self._every + tuple(r for r in self._calls if r.covers_tool(tool))
            quotas = tuple(q for q in self._quotas if q.tools is None or q.tools.matches(tool))
            found = (rules, quotas)
            if len(self._memo) < _MEMO_SIZE:
                self._memo[tool] = found
        return found

    def items(self, method: str, tool: str | None, who: Identity, now: datetime) -> list[Item]:
        """The buckets and quota windows a request takes from (empty: nothing limits it)."""
        rules, quotas = self.rules_for(method, tool)
        return self.items_of(rules, quotas, tool, who, now)

    def items_of(
        self, rules: tuple[Rule, ...], quotas: tuple[Quota, ...], tool: str | None, who: Identity, now: datetime
    ) -> list[Item]:
        """The buckets of ``rules`` and the windows of ``quotas`` (from :meth:`rules_for`) for ``who``."""
        items: list[Item] = [r.bucket(self.server, tool, who) for r in rules]
        items += [q.counter(who.subject, now) for q in quotas]
        return items


@dataclass(frozen=True)
class CompiledLimits:
    """Every server's :class:`ServerLimits` (only servers something limits) and every endpoint's rules."""

    servers: dict[str, ServerLimits]
    endpoints: dict[Endpoint, tuple[Rule, ...]]

    @classmethod
    def of(
        cls,
        rules: list[RateLimitRuleConfig],
        quotas: list[QuotaConfig],
        servers: list[str],
        registrations_per_minute: int = 20,
    ) -> CompiledLimits:
        """Compile; endpoints no configured rule covers get their default (docs/limits.md §Defaults).

        ``registrations_per_minute`` (``oauth.registrations_per_minute``, deprecated) sets the
        default ``/register`` rule's rate and burst.
        """
        per_server: dict[str, ServerLimits] = {}
        for server in servers:
            own = [Rule.of(r) for r in rules if r.servers is not None and Globs(r.servers).matches(server)]
            own_quotas = [
                Quota(q.name, q.per, q.calls, Globs(q.tools) if q.tools is not None else None)
                for q in quotas
                if Globs(q.servers).matches(server)
            ]
            if own or own_quotas:
                per_server[server] = ServerLimits(server, own, own_quotas)
        endpoints: dict[Endpoint, tuple[Rule, ...]] = {}
        for endpoint in ENDPOINTS:
            configured = tuple(Rule.of(r) for r in rules if r.endpoints is not None and endpoint in r.endpoints)
            endpoints[endpoint] = configured or (default_rule(endpoint, registrations_per_minute),)
        return cls(per_server, endpoints)


def default_rule(endpoint: Endpoint, registrations_per_minute: int) -> Rule:
    """The built-in rule of ``endpoint`` (per client address)."""
    name, rate, burst = DEFAULT_ENDPOINT_RATES[endpoint]
    if endpoint == "/register":
        rate, burst = registrations_per_minute / 60, registrations_per_minute
    return Rule(name, "client_address", rate, burst, text=f"{round(rate * 60)}/minute")
