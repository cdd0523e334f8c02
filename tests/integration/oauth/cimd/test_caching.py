"""Caching, failure handling and shared fetches (draft-...-document-00 §4.3, §4.4)."""

from __future__ import annotations

import logging
import threading

import anyio
import pytest

from oauth.cimd import ClientMetadataDocument, ClientMetadataDocumentError, ClientMetadataResolver
from tests.integration.oauth.cimd.conftest import ManualClock
from tests.integration.oauth.cimd.document_server import DocumentServer, Route

pytestmark = pytest.mark.anyio

MARKER = "zz-name-marker"


async def test_a_document_is_reused_until_its_max_age_passes(
    server: DocumentServer, resolver: ClientMetadataResolver, monotonic_clock: ManualClock
) -> None:
    """Spec-recommended (§4.4): follow HTTP caching."""
    url = server.serve_valid("/client.json", headers={"Cache-Control": "max-age=120"})

    await resolver.resolve(url)
    monotonic_clock.advance(119)
    await resolver.resolve(url)
    assert server.hits["/client.json"] == 1

    monotonic_clock.advance(2)
    await resolver.resolve(url)
    assert server.hits["/client.json"] == 2


async def test_without_cache_headers_the_minimum_lifetime_applies(
    server: DocumentServer, resolver: ClientMetadataResolver, monotonic_clock: ManualClock
) -> None:
    url = server.serve_valid("/client.json")

    await resolver.resolve(url)
    monotonic_clock.advance(59)
    await resolver.resolve(url)
    assert server.hits["/client.json"] == 1
    monotonic_clock.advance(2)
    await resolver.resolve(url)
    assert server.hits["/client.json"] == 2


async def test_lifetimes_are_clamped_to_the_configured_bounds(
    server: DocumentServer, monotonic_clock: ManualClock
) -> None:
    """Spec-allowed (§4.4): the authorization server MAY clamp."""
    short = server.serve_valid("/short.json", headers={"Cache-Control": "max-age=1"})
    long = server.serve_valid("/long.json", headers={"Cache-Control": "max-age=31536000"})
    resolver = ClientMetadataResolver(
        allow_hosts=frozenset({"127.0.0.1"}), clock=monotonic_clock, min_ttl=30, max_ttl=600
    )
    try:
        await resolver.resolve(short)
        await resolver.resolve(long)
        monotonic_clock.advance(29)
        await resolver.resolve(short)
        assert server.hits["/short.json"] == 1
        monotonic_clock.advance(572)
        await resolver.resolve(long)
        assert server.hits["/long.json"] == 2
    finally:
        await resolver.aclose()


async def test_no_store_documents_are_fetched_every_time(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    url = server.serve_valid("/client.json", headers={"Cache-Control": "no-store"})

    await resolver.resolve(url)
    await resolver.resolve(url)

    assert server.hits["/client.json"] == 2


async def test_failures_are_not_cached(server: DocumentServer, resolver: ClientMetadataResolver) -> None:
    """Spec-mandated (§4.3): MUST NOT cache errors or invalid documents."""
    url = server.url("/client.json")
    server.routes["/client.json"] = Route(status=500, headers={"Cache-Control": "max-age=3600"})
    with pytest.raises(ClientMetadataDocumentError):
        await resolver.resolve(url)

    server.serve_json("/client.json", {"client_id": url}, headers={"Cache-Control": "max-age=3600"})
    with pytest.raises(ClientMetadataDocumentError):
        await resolver.resolve(url)

    server.serve_valid("/client.json")
    assert (await resolver.resolve(url)).client_id == url
    assert server.hits["/client.json"] == 3


async def test_a_stale_copy_is_served_when_the_refetch_fails(
    server: DocumentServer,
    resolver: ClientMetadataResolver,
    monotonic_clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Our own choice: a client keeps working through its host's outage; the warning names the URL only."""
    url = server.serve_valid("/client.json", client_name=MARKER, headers={"Cache-Control": "max-age=60"})
    first = await resolver.resolve(url)
    server.routes["/client.json"] = Route(status=503)
    monotonic_clock.advance(61)

    with caplog.at_level(logging.WARNING, logger="oauth.cimd"):
        stale = await resolver.resolve(url)

    assert stale == first
    assert server.hits["/client.json"] == 2
    assert url in caplog.text and "unexpected HTTP status 503" in caplog.text
    assert MARKER not in caplog.text


async def test_a_stale_copy_is_not_served_past_max_ttl_after_expiry(
    server: DocumentServer, resolver: ClientMetadataResolver, monotonic_clock: ManualClock
) -> None:
    url = server.serve_valid("/client.json", headers={"Cache-Control": "max-age=60"})
    await resolver.resolve(url)
    server.routes["/client.json"] = Route(status=503)

    monotonic_clock.advance(60 + 86400 + 1)

    with pytest.raises(ClientMetadataDocumentError) as caught:
        await resolver.resolve(url)
    assert caught.value.reason == "unexpected HTTP status 503"


async def test_an_invalid_refetch_does_not_replace_the_cached_copy(
    server: DocumentServer, resolver: ClientMetadataResolver, monotonic_clock: ManualClock
) -> None:
    url = server.serve_valid("/client.json", client_name="Good", headers={"Cache-Control": "max-age=60"})
    await resolver.resolve(url)
    server.serve_valid("/client.json", client_name="Bad", token_endpoint_auth_method="client_secret_basic")
    monotonic_clock.advance(61)

    assert (await resolver.resolve(url)).client_name == "Good"


async def run_concurrently(
    resolver: ClientMetadataResolver, url: str, server: DocumentServer, gate: threading.Event
) -> list[object]:
    """Start five resolves, open the gate once all of them are waiting, collect documents or errors."""
    outcomes: list[object] = []

    async def resolve() -> None:
        try:
            outcomes.append(await resolver.resolve(url))
        except ClientMetadataDocumentError as exc:
            outcomes.append(exc.reason)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            for _ in range(5):
                tasks.start_soon(resolve)
            await anyio.to_thread.run_sync(server.arrived.wait, 5)
            await anyio.wait_all_tasks_blocked()
            gate.set()
    return outcomes


async def test_concurrent_resolves_of_one_url_share_a_single_fetch(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    """Our own choice: a burst of authorization requests costs the client's host one request.

    no-store keeps the cache out of it: only single-flight can make the hit count 1.
    """
    url = server.serve_valid("/client.json", headers={"Cache-Control": "no-store"})
    gate = server.routes["/client.json"].gate = threading.Event()

    outcomes = await run_concurrently(resolver, url, server, gate)

    assert server.hits["/client.json"] == 1
    assert len(outcomes) == 5
    assert all(isinstance(outcome, ClientMetadataDocument) and outcome.client_id == url for outcome in outcomes)


async def test_concurrent_resolves_share_a_failure_too(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    url = server.url("/client.json")
    gate = threading.Event()
    server.routes["/client.json"] = Route(status=500, gate=gate)

    outcomes = await run_concurrently(resolver, url, server, gate)

    assert server.hits["/client.json"] == 1
    assert outcomes == ["unexpected HTTP status 500"] * 5


async def test_a_waiting_caller_fetches_itself_when_the_leading_caller_is_cancelled(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    """One abandoned authorization request must not fail the others waiting on its fetch."""
    url = server.serve_valid("/client.json", headers={"Cache-Control": "no-store"})
    gate = server.routes["/client.json"].gate = threading.Event()
    leader = anyio.CancelScope()
    outcomes: list[ClientMetadataDocument] = []

    async def lead() -> None:
        with leader:
            await resolver.resolve(url)

    async def follow() -> None:
        outcomes.append(await resolver.resolve(url))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lead)
            await anyio.to_thread.run_sync(server.arrived.wait, 5)
            tasks.start_soon(follow)
            await anyio.wait_all_tasks_blocked()
            leader.cancel()
            await anyio.wait_all_tasks_blocked()
            gate.set()

    assert [document.client_id for document in outcomes] == [url]
    assert server.hits["/client.json"] == 2
