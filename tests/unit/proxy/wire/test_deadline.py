"""Per-request deadlines: which limit, which key, and what ``deliver`` does when one passes."""

from __future__ import annotations

import json

import anyio
import pytest

from proxy.wire.deadline import DeadlineLimits, RequestDeadline, RequestTimeoutError, deadline_limits
from proxy.wire.delivery import deliver
from proxy.wire.outbox import Outbox, Outgoing
from tests.unit.proxy.wire.test_delivery import Client

pytestmark = pytest.mark.anyio


def limits(request_timeout: float, max_request_duration: float) -> DeadlineLimits:
    return deadline_limits(
        "up",
        request_timeout=request_timeout,
        max_request_duration=max_request_duration,
        default_request_timeout=300,
        default_max_request_duration=3600,
    )


def test_a_servers_own_limits_name_its_keys_and_the_defaults_name_the_gateways() -> None:
    """Our choice: the error names the key the operator has to change."""
    own = limits(5, 60)
    default = deadline_limits(
        "up",
        request_timeout=None,
        max_request_duration=None,
        default_request_timeout=300,
        default_max_request_duration=3600,
    )
    assert (own.request_timeout_key, own.max_request_duration_key) == (
        "servers.up.request_timeout",
        "servers.up.max_request_duration",
    )
    assert (default.request_timeout, default.request_timeout_key) == (300, "gateway.request_timeout")
    assert (default.max_request_duration, default.max_request_duration_key) == (3600, "gateway.max_request_duration")


def test_silence_expires_request_timeout_and_age_expires_max_request_duration() -> None:
    """Spec (lifecycle §Timeouts): a silence limit that progress resets, and a maximum it does not."""
    silent = RequestDeadline(limits(1e-9, 3600)).expired()
    old = RequestDeadline(limits(300, 1e-9)).expired()
    fresh = RequestDeadline(limits(300, 3600)).expired()
    assert isinstance(silent, RequestTimeoutError) and isinstance(old, RequestTimeoutError)
    assert (silent.code, silent.http_status, silent.data) == (
        -32001,
        504,
        {"limit": "servers.up.request_timeout", "seconds": 1e-9},
    )
    assert old.data == {"limit": "servers.up.max_request_duration", "seconds": 1e-9}
    assert fresh is None


async def test_an_expired_request_is_answered_504_json_with_the_error_on_expire_put() -> None:
    """Our choice: nothing streamed yet, so the -32001 error is a plain JSON answer with 504."""
    client, outbox, expired = Client(), Outbox(4, "test"), []

    async def on_expire(error: RequestTimeoutError) -> None:
        expired.append(error)
        outbox.put(Outgoing(error.to_message(3), final=True, http_status=error.http_status))

    with anyio.fail_after(5):
        await deliver(
            client.exchange(),
            outbox,
            modern=False,
            keepalive=5,
            headers={},
            deadline=RequestDeadline(limits(0.01, 3600)),
            on_expire=on_expire,
        )
    assert len(expired) == 1
    assert client.sent[0]["status"] == 504
    assert json.loads(client.sent[1]["body"])["error"]["code"] == -32001


async def test_messages_for_the_request_reset_its_silence_clock() -> None:
    """Spec (lifecycle §Timeouts, MAY): progress keeps a request alive past request_timeout."""
    client, outbox, expired = Client(), Outbox(8, "test"), []

    async def on_expire(error: RequestTimeoutError) -> None:
        expired.append(error)

    async def progress_then_answer() -> None:
        for step in range(4):
            await anyio.sleep(0.1)
            outbox.put(Outgoing({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": step}}))
        outbox.put(Outgoing({"jsonrpc": "2.0", "id": 1, "result": {}}, final=True))

    async with anyio.create_task_group() as group:
        group.start_soon(progress_then_answer)
        with anyio.fail_after(5):
            await deliver(
                client.exchange(),
                outbox,
                modern=False,
                keepalive=5,
                headers={},
                deadline=RequestDeadline(limits(0.3, 3600)),
                on_expire=on_expire,
            )
    assert expired == []
    assert b'"result"' in b"".join(m.get("body", b"") for m in client.sent)
