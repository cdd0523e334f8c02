"""PostgreSQL NOTIFY payloads of revocation events (issue #15 finding 8): chunked below the 8000-byte limit."""

from __future__ import annotations

import pytest

from oauth.store.revocation_events import notify_payloads, parse_notify_payload


def test_many_revocations_are_split_into_payloads_postgresql_accepts() -> None:
    revoked = [(f"{i:043d}", 1_900_000_000 + i) for i in range(1000)]
    payloads = notify_payloads(revoked)
    assert len(payloads) > 1
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    assert [pair for payload in payloads for pair in parse_notify_payload(payload)] == revoked


def test_no_revocations_give_no_payload() -> None:
    assert notify_payloads([]) == []


@pytest.mark.parametrize("payload", ["{}", "not json", '[["only-a-jti"]]', '[["jti", "not-a-number"]]'])
def test_a_foreign_payload_is_refused(payload: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_notify_payload(payload)
