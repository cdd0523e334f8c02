"""Writing one POST's answer: JSON when the response comes first, and what a vanished client triggers."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from starlette.types import Message

from proxy.wire.delivery import deliver
from proxy.wire.exchange import Exchange
from proxy.wire.outbox import Outbox, Outgoing

pytestmark = pytest.mark.anyio


class Client:
    """An ASGI peer whose body was already read: ``receive`` waits for a disconnect (or raises)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[Message] = []
        self.gone = anyio.Event()
        self.fail = fail

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        if self.fail:
            raise OSError("transport broke")
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def exchange(self) -> Exchange:
        return Exchange({"type": "http", "method": "POST"}, self.receive, self.send, [], "echo")


async def test_a_response_that_comes_first_is_sent_as_json_and_no_disconnect_is_reported() -> None:
    client, outbox, disconnects = Client(), Outbox(4, "test"), []

    async def on_disconnect() -> None:
        disconnects.append(True)

    outbox.put(Outgoing({"jsonrpc": "2.0", "id": 1, "result": {}}, final=True))
    await deliver(client.exchange(), outbox, modern=True, keepalive=5, headers={}, on_disconnect=on_disconnect)
    assert client.sent[0]["status"] == 200
    assert client.sent[1]["body"] == b'{"jsonrpc":"2.0","id":1,"result":{}}'
    assert disconnects == []


@pytest.mark.parametrize("fail", [False, True], ids=["disconnect", "receive-fails"])
async def test_a_client_that_goes_away_ends_the_relay_abandons_the_outbox_and_reports_it(fail: bool) -> None:
    client, outbox, disconnects = Client(fail=fail), Outbox(4, "test"), []

    async def on_disconnect() -> None:
        disconnects.append(True)

    async def leave() -> None:
        await anyio.wait_all_tasks_blocked()
        client.gone.set()

    async with anyio.create_task_group() as group:
        group.start_soon(leave)
        with anyio.fail_after(5):
            await deliver(client.exchange(), outbox, modern=True, keepalive=5, headers={}, on_disconnect=on_disconnect)
    assert disconnects == [True]
    assert not outbox.put(Outgoing({"jsonrpc": "2.0", "id": 1, "result": {}}, final=True))
    assert client.sent == []
