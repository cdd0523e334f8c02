"""The token endpoint case: authorization-code exchanges/s and refreshes/s against a running Portico.

Portico runs with ``BENCH_FAKE_LOGIN=1`` (``bench/portico_server.py``): the browser is always
signed in as one bench user, so codes can be minted through the real ``/authorize`` and consent
pages before timing. Each timed call is a real ``POST /token`` (PKCE check, code consumed, JWT
signed, refresh token stored; refresh rotation). The load is an asyncio httpx2 client at fixed
concurrency: the token endpoint is far slower than the client, so a Python generator is enough.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from oauth.pkce import s256_challenge

CALLBACK = "https://claude.ai/api/mcp/auth_callback"


@dataclass
class TokenResult:
    name: str
    concurrency: int
    calls: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


def _hidden(page: str, name: str) -> str:
    import html
    import re

    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    if match is None:
        raise RuntimeError(f"no hidden input {name!r} on the consent page")
    return html.unescape(match.group(1))


async def _code(http: httpx2.AsyncClient, client_id: str, resource: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
        "state": "s",
        "scope": "mcp",
        "resource": resource,
    }
    response = await http.get("/authorize", params=params)
    if response.status_code == 200:
        form = {"csrf": _hidden(response.text, "csrf"), "state": _hidden(response.text, "state"), "decision": "approve"}
        response = await http.post("/consent", data=form)
    if response.status_code != 302:
        raise RuntimeError(f"authorize failed: {response.status_code} {response.text[:300]}")
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    return code, verifier


async def _drive(
    name: str, concurrency: int, jobs: list[dict[str, str]], base: str, collect: list[str] | None
) -> TokenResult:
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                try:
                    form = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await http.post("/token", data=form)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or "access_token" not in response.text:
                    errors += 1
                elif collect is not None:
                    collect.append(response.json()["refresh_token"])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return TokenResult(name, concurrency, len(jobs), seconds, latencies, errors)


async def measure_token_endpoint(base: str, resource: str, calls: int, concurrencies: list[int]) -> list[TokenResult]:
    """Per concurrency: ``calls`` code exchanges, then ``calls`` refreshes of the tokens they returned."""
    results: list[TokenResult] = []
    async with httpx2.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as http:
        response = await http.post(
            "/register",
            json={"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none", "client_name": "bench"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"registration failed: {response.status_code} {response.text[:300]}")
        client_id: str = response.json()["client_id"]
        warm = 20
        for concurrency in concurrencies:
            codes = [await _code(http, client_id, resource) for _ in range(calls + warm)]
            exchanges = [
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "code_verifier": verifier,
                    "client_id": client_id,
                    "redirect_uri": CALLBACK,
                    "resource": resource,
                }
                for code, verifier in codes
            ]
            refresh_tokens: list[str] = []
            await _drive("warm-up", concurrency, exchanges[:warm], base, None)  # discarded
            results.append(await _drive("code exchange", concurrency, exchanges[warm:], base, refresh_tokens))
            refreshes = [
                {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
                for token in refresh_tokens
            ]
            results.append(await _drive("refresh", concurrency, refreshes, base, None))
    return results


def token_table(results: list[TokenResult]) -> list[str]:
    rows = [
        "| grant | concurrency | calls | calls/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows.extend(
        f"| {r.name} | {r.concurrency} | {r.calls} | {r.rate:.1f} | {r.percentile(50):.2f} "
        f"| {r.percentile(95):.2f} | {r.percentile(99):.2f} | {r.errors} |"
        for r in results
    )
    return rows


def token_summary(results: list[TokenResult]) -> dict[str, Any]:
    best: dict[str, float] = {}
    for result in results:
        best[result.name] = max(best.get(result.name, 0.0), result.rate)
    return {"best": best, "median_p50": statistics.median(r.percentile(50) for r in results) if results else 0.0}
