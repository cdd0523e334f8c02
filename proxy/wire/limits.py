"""How an over-size message is described: the limit, in bytes and MiB, and the key that sets it.

One upstream message (a stdio line, an SSE event, a JSON body) may not exceed
``gateway.max_message_bytes`` (default 16 MiB). Every error or log line about it — whatever the
transport — names that key and the limit, so an operator knows what to raise.
"""

from __future__ import annotations

from typing import Final

MAX_MESSAGE_BYTES_KEY: Final = "gateway.max_message_bytes"
_MIB: Final = 1024 * 1024


def over_message_limit(what: str, limit: int) -> str:
    """``"<what> exceeded gateway.max_message_bytes (16777216 bytes = 16 MiB)"``."""
    return f"{what} exceeded {MAX_MESSAGE_BYTES_KEY} ({limit} bytes = {limit / _MIB:.3g} MiB)"
