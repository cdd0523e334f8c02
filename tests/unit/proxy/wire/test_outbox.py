"""The per-stream outbox: never blocks the producer, drops notifications, never drops a response."""

from __future__ import annotations

import anyio
import pytest

from proxy.wire.outbox import DROPPED_NOTIFICATIONS, Outbox, Outgoing

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


async def test_a_waiting_consumer_wakes_for_the_next_message_and_for_the_end() -> None:
    outbox = Outbox(4, "test")
    received: list[Outgoing | None] = []

    async def consume() -> None:
        received.append(await outbox.get())
        received.append(await outbox.get())

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        outbox.put(note(1))
        await anyio.wait_all_tasks_blocked()
        outbox.close()
    assert [None if i is None else i.message["params"]["progress"] for i in received] == [1, None]


async def test_abandoning_wakes_a_waiting_consumer_with_the_end_and_drops_what_was_queued() -> None:
    outbox = Outbox(4, "test")
    outbox.put(note(1))
    assert await outbox.get() is not None
    result: list[Outgoing | None] = [note(0)]

    async def consume() -> None:
        result[0] = await outbox.get()

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        outbox.abandon()
    assert result == [None]
    assert not outbox.put(note(2))


async def test_a_batch_response_beyond_capacity_keeps_its_place_after_earlier_messages() -> None:
    outbox = Outbox(1, "test", finals=2)
    assert outbox.put(Outgoing({"id": 1}, final=True))
    assert not outbox.put(note(1))
    assert outbox.put(Outgoing({"id": 2}, final=True))
    assert [i.message["id"] for i in await drain(outbox)] == [1, 2]


async def test_drops_are_counted_per_server_and_logged_once_when_the_stream_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue #14 finding 9: a counter by server, and one log line per stream (not one per drop)."""
    before = DROPPED_NOTIFICATIONS.total("unit-counted")
    outbox = Outbox(1, "unit-counted[u]/GET")
    for n in range(4):
        outbox.put(note(n))
    assert DROPPED_NOTIFICATIONS.total("unit-counted") - before == 3
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]
    outbox.put(Outgoing({"id": 1, "result": {}}, final=True))
    await drain(outbox)
    outbox.abandon()
    lines = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert lines == [
        "client stream unit-counted[u]/GET did not keep up: 3 notifications dropped "
        "(gateway.stream_buffer_messages = 1)"
    ]
    assert DROPPED_NOTIFICATIONS.by_server()["unit-counted"] == DROPPED_NOTIFICATIONS.total("unit-counted")


async def test_an_explicit_server_name_is_what_drops_are_counted_under() -> None:
    before = DROPPED_NOTIFICATIONS.total("unit-explicit")
    outbox = Outbox(1, "whatever label", server="unit-explicit")
    outbox.put(note(0))
    outbox.put(note(1))
    assert DROPPED_NOTIFICATIONS.total("unit-explicit") - before == 1
