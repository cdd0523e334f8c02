"""Times on the ``portico audit`` command line: ISO 8601, or a span back from now.

Spans: a number and a unit, ``s`` ``m`` ``h`` ``d`` ``w`` (``90s``, ``15m``, ``1h``, ``7d``, ``2w``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"(\d{1,7})([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now: datetime) -> datetime:
    """``text`` as an aware UTC datetime (a time without zone is UTC).

    Raises:
        ValueError: neither ISO 8601 nor ``<number><s|m|h|d|w>``.
    """
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        return now - timedelta(seconds=int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO 8601 time nor a span such as 1h or 7d") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
