"""The per-stream outbox: never blocks the producer, drops notifications, never drops a response."""

from __future__ import annotations

import pytest

from proxy.outbox import Outbox, Outgoing

pytestmark = pytest.mark.anyio


def note(n: int) -> Outgoing:
    return Outgoing({"method": "notifications/progress", "params": {"progress": n}})


async def drain(outbox: Outbox) -> list[Outgoing]:
    items = []
    while (item := await outbox.get()) is not None:
        items.append(item)
    return items


async def test_notifications_beyond_capacity_are_dropped_but_the_response_is_delivered_last() -> None:
    """Our choice (docs/_gateway.md): bounded memory per slow client; the response is never lost."""
    outbox = Outbox(2, "test")
    accepted = [outbox.put(note(n)) for n in range(5)]
    assert outbox.put(Outgoing({"id": 1, "result": {}}, final=True))
    items = await drain(outbox)
    assert accepted == [True, True, False, False, False]
    assert outbox.dropped == 3
    assert [i.message.get("id") for i in items] == [None, None, 1]


async def test_a_batch_outbox_ends_after_all_its_responses() -> None:
    outbox = Outbox(8, "test", finals=2)
    outbox.put(Outgoing({"id": 1}, final=True))
    assert not outbox.closed
    outbox.put(Outgoing({"id": 2}, final=True))
    assert outbox.closed
    assert [i.message["id"] for i in await drain(outbox)] == [1, 2]


async def test_an_abandoned_outbox_refuses_everything() -> None:
    outbox = Outbox(8, "test")
    outbox.abandon()
    assert not outbox.put(note(1))
    assert not outbox.put(Outgoing({"id": 1}, final=True))
    assert await outbox.get() is None
