"""SSE framing (WHATWG HTML §9.2): whole events, whatever the chunking and line endings."""

from __future__ import annotations

import pytest

from proxy.wire.sse import SseDecoder, SseEvent, SseEventTooLargeError, message_event

STREAM = b'id: 7\nevent: message\ndata: {"a":1}\n\n: keep-alive\n\ndata: one\ndata: two\nretry: 100\n\n'


def decode_all(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder(max_event_bytes=10_000)
    return [event for chunk in chunks for event in decoder.feed(chunk)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_events_are_the_same_however_the_bytes_are_chunked(size: int) -> None:
    events = decode_all([STREAM[i : i + size] for i in range(0, len(STREAM), size)])
    assert events == [SseEvent(data='{"a":1}', event="message", id="7"), SseEvent(data="one\ntwo", retry=100)]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_every_line_ending_is_understood(newline: bytes) -> None:
    stream = newline.join([b"id: 1", b"data: x", b"", b""])
    assert decode_all([stream[:5], stream[5:]]) == [SseEvent(data="x", id="1")]


def test_a_crlf_split_across_chunks_is_one_line_end() -> None:
    assert decode_all([b"data: x\r", b"\n\r", b"\n"]) == [SseEvent(data="x")]


def test_a_priming_event_with_only_an_id_is_kept() -> None:
    """Spec (2025-11-25 transports §Resumability): clients need the id of an empty priming event."""
    events = decode_all([b"id: 42\ndata: \n\n"])
    assert events == [SseEvent(data="", id="42")]
    assert not events[0].is_message


def test_comments_alone_make_no_event() -> None:
    assert decode_all([b": ping\n\n: ping\n\n"]) == []


def test_an_event_larger_than_the_bound_is_refused() -> None:
    decoder = SseDecoder(max_event_bytes=100)
    with pytest.raises(SseEventTooLargeError):
        decoder.feed(b"data: " + b"x" * 200)


def test_encoding_round_trips() -> None:
    event = SseEvent(data="a\nb", event="message", id="3", retry=5)
    assert decode_all([event.encode()]) == [event]
    assert message_event(b"{}", "9") == b"id: 9\nevent: message\ndata: {}\n\n"


def test_an_oversized_event_names_the_key_and_the_limit() -> None:
    """Issue #14 finding 9: the operator learns which key to raise."""
    decoder = SseDecoder(max_event_bytes=16 * 1024 * 1024)
    with pytest.raises(SseEventTooLargeError) as raised:
        decoder.feed(b"data: " + b"x" * (16 * 1024 * 1024 + 1))
    assert str(raised.value) == ("an upstream SSE event exceeded gateway.max_message_bytes (16777216 bytes = 16 MiB)")
