"""What a signed upstream identity costs a proxied call: ``python -m bench.identity_cost`` (and
``make bench``'s ``identity`` case).

Times :meth:`proxy.credentials.identity.UpstreamIdentities.headers` warm (the assertion cached: the
per-call cost of ``servers.<name>.identity``), the signature alone
(:func:`oauth.tokens.identity_assertions.issue_identity_assertion`, paid once per user, client,
server and key every 80 % of ``lifetime``) and a whole cold mint (account read on SQLite + signature).
A real runtime (SQLite in a temporary directory, real signing key). Best of 15 repeats, µs of this
process's CPU time per call: on a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.config import PorticoConfig
from app.crypto import generate_secret
from app.runtime import Runtime, build_runtime
from oauth.tokens.access_tokens import AccessTokenClaims
from oauth.tokens.identity_assertions import IdentityStatement, issue_identity_assertion
from proxy.credentials.identity import UpstreamIdentities

WARM_CALLS = 20_000
COLD_CALLS = 200
REPEATS = 15
URL = "https://tools.internal.example.com/mcp"


def _runtime(directory: Path) -> Runtime:
    config = PorticoConfig.model_validate(
        {
            "public_url": "http://127.0.0.1:8080",
            "database_url": f"sqlite:///{directory / 'bench.db'}",
            "secrets": {"secret_key": generate_secret(), "generated_key_file": str(directory / "generated.key")},
            "servers": {"tools": {"transport": "streamable-http", "url": URL, "identity": {}}},
        }
    )
    return build_runtime(config, env={})


def _claims(subject: str) -> AccessTokenClaims:
    return AccessTokenClaims("iss", subject, "aud", "client", frozenset({"mcp"}), 2_000_000_000, 0, "jti")


async def _best(calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    best = float("inf")
    for repeat in range(REPEATS):
        started = time.process_time()
        for index in range(calls):
            await call(repeat * calls + index)
        best = min(best, (time.process_time() - started) / calls)
    return best * 1e6


async def _measure(runtime: Runtime, warm_calls: int, cold_calls: int) -> dict[str, float]:
    identities = UpstreamIdentities(runtime)
    warm = _claims("warm-user")
    await identities.headers("tools", warm)
    key = runtime.signing_keys.key_at(time.time())
    statement = IdentityStatement("u", "u@example.com", ("eng", "ops"), "client")

    async def sign(_index: int) -> str:
        return issue_identity_assertion(key, statement, issuer="http://127.0.0.1:8080", audience=URL, now=0, lifetime=1)

    cold_cache = UpstreamIdentities(runtime, max_entries=cold_calls * REPEATS + 1)
    return {
        "warm": await _best(warm_calls, lambda _i: identities.headers("tools", warm)),
        "unconfigured": await _best(warm_calls, lambda _i: identities.headers("x", warm)),
        "signature": await _best(cold_calls, sign),
        "cold": await _best(cold_calls, lambda index: cold_cache.headers("tools", _claims(f"user-{index}"))),
    }


async def measure(warm_calls: int = WARM_CALLS, cold_calls: int = COLD_CALLS) -> dict[str, float]:
    """µs of CPU per call: ``warm``, ``unconfigured``, ``signature``, ``cold`` (see the module docstring)."""
    with tempfile.TemporaryDirectory() as directory:
        runtime = _runtime(Path(directory))
        try:
            return await _measure(runtime, warm_calls, cold_calls)
        finally:
            runtime.close()


def report_lines(result: dict[str, float]) -> list[str]:
    """Markdown lines for ``make bench``'s report (bench/run.py)."""
    return [
        f"`servers.<name>.identity` (ADR 0020): CPU of this process per call, best of {REPEATS} repeats.",
        "",
        "| what | per call | paid |",
        "|---|---|---|",
        f"| warm `UpstreamIdentities.headers()` | {result['warm']:.2f} µs | each request to a server with `identity` |",
        f"| `headers()`, server without `identity` | {result['unconfigured']:.2f} µs | never (no identities given) |",
        f"| ES256 signature alone | {result['signature']:.1f} µs | per (user, client, server, kid), 80 % of lifetime |",
        f"| cold mint (account read + signature) | {result['cold']:.1f} µs | same |",
    ]


def main() -> None:
    print("\n".join(report_lines(asyncio.run(measure()))))


if __name__ == "__main__":
    main()
