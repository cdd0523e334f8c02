"""Micro-benchmark of two pieces every proxied call runs: ``python -m bench.hot_path``.

The bearer check of a token this process already verified (``BearerAuthenticator.authenticate``)
and the headers of the upstream request (``upstream_headers``), each timed in a tight loop; the
best of 15 repeats of 20,000 calls is printed in µs per call. Whole-call costs are in
``make bench`` (bench/run.py); this isolates pieces that are too small to see there.
"""

from __future__ import annotations

import tempfile
import timeit
from datetime import UTC, datetime

from app.config import PorticoConfig
from app.crypto import generate_secret
from app.runtime import build_runtime
from oauth.tokens.access_tokens import issue_access_token
from proxy.auth.resource_server import BearerAuthenticator
from proxy.upstream.headers import upstream_headers
from proxy.wire.asgi import header_values

CALLS = 20_000
REPEATS = 15


def main() -> None:
    scratch = tempfile.mkdtemp(prefix="portico-hot-path-")
    config = PorticoConfig.model_validate(
        {
            "public_url": "http://127.0.0.1:8080",
            "database_url": f"sqlite:///{scratch}/portico.db",
            "secrets": {"secret_key": generate_secret(), "generated_key_file": f"{scratch}/generated.key"},
            "servers": {
                "s": {"transport": "streamable-http", "url": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "v"}}
            },
        }
    )
    runtime = build_runtime(config, env={})
    resource = runtime.resources.for_path("/s/mcp")
    assert resource is not None
    token, _claims = issue_access_token(
        runtime.signing_keys,
        issuer=config.public_url,
        subject="1",
        audience=resource.resource,
        client_id="c",
        scopes={"mcp"},
        now=datetime.now(UTC),
        lifetime=3600,
    )
    headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("authorization", f"Bearer {token}"),
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-session-id", "portico-session"),
        ("user-agent", "bench"),
    ]
    authenticator = BearerAuthenticator(runtime)
    credential = {"X-Key": "v"}

    def bearer_check() -> object:
        return authenticator.authenticate(header_values(headers, "authorization"), resource)

    def request_headers() -> object:
        return upstream_headers(credential, {"mcp-session-id": "upstream-session"}, client=headers)

    for name, piece in (("bearer check, warm token", bearer_check), ("upstream request headers", request_headers)):
        piece()
        best = min(timeit.repeat(piece, number=CALLS, repeat=REPEATS)) / CALLS * 1e6
        print(f"{name}: {best:.2f} µs per call")
    runtime.close()


if __name__ == "__main__":
    main()
