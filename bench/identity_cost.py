"""What a signed upstream identity costs a proxied call: ``python -m bench.identity_cost``.

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


async def _measure(runtime: Runtime) -> dict[str, float]:
    identities = UpstreamIdentities(runtime)
    warm = _claims("warm-user")
    await identities.headers("tools", warm)
    key = runtime.signing_keys.key_at(time.time())
    statement = IdentityStatement("u", "u@example.com", ("eng", "ops"), "client")

    async def sign(_index: int) -> str:
        return issue_identity_assertion(key, statement, issuer="http://127.0.0.1:8080", audience=URL, now=0, lifetime=1)

    cold_cache = UpstreamIdentities(runtime, max_entries=COLD_CALLS * REPEATS + 1)
    return {
        "warm headers() (cached assertion)": await _best(WARM_CALLS, lambda _i: identities.headers("tools", warm)),
        "headers() for a server without identity": await _best(WARM_CALLS, lambda _i: identities.headers("x", warm)),
        "signature alone (cold)": await _best(COLD_CALLS, sign),
        "cold headers() (account read + signature)": await _best(
            COLD_CALLS, lambda index: cold_cache.headers("tools", _claims(f"user-{index}"))
        ),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        runtime = _runtime(Path(directory))
        try:
            results = asyncio.run(_measure(runtime))
        finally:
            runtime.close()
    for name, micros in results.items():
        print(f"{name:<45} {micros:9.2f} µs")


if __name__ == "__main__":
    main()
