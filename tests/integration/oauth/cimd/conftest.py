"""Fixtures for resolver tests against a real local HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from oauth.cimd import ClientMetadataResolver
from tests.integration.oauth.cimd.document_server import DocumentServer, running_document_server


class ManualClock:
    """Monotonic seconds that only move when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def server() -> Iterator[DocumentServer]:
    with running_document_server() as running:
        yield running


@pytest.fixture
def monotonic_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def resolver(monotonic_clock: ManualClock) -> AsyncIterator[ClientMetadataResolver]:
    """Lets plain http to 127.0.0.1 through (the local server); a 1 s deadline keeps failures fast."""
    created = ClientMetadataResolver(allow_hosts=frozenset({"127.0.0.1"}), clock=monotonic_clock, timeout=1.0)
    yield created
    await created.aclose()
