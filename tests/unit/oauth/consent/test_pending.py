"""The consent form's pending request: signed, bound, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.crypto import KeyRing
from oauth.consent.pending import STATE_LIFETIME, PendingConsent, new_pending_consent, seal, unseal

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RING = KeyRing((b"a" * 32,))


def pending() -> PendingConsent:
    return new_pending_consent(
        subject="user-1",
        client_id="client-1",
        redirect_uri="https://claude.ai/api/mcp/auth_callback",
        state="s",
        resource="https://gw.example.com/github/mcp",
        params=(("client_id", "client-1"), ("resource", "https://gw.example.com/github/mcp")),
        now=NOW,
    )


def test_a_sealed_request_opens_unchanged_before_it_expires() -> None:
    original = pending()
    assert unseal(RING, seal(RING, original), NOW + timedelta(seconds=STATE_LIFETIME - 1)) == original


def test_a_sealed_request_expires_after_ten_minutes() -> None:
    """Spec-derived (MCP security best practices: state lifetime ~10 minutes)."""
    assert unseal(RING, seal(RING, pending()), NOW + timedelta(seconds=STATE_LIFETIME)) is None


def test_a_tampered_request_is_refused() -> None:
    sealed = seal(RING, pending())
    assert unseal(RING, sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], NOW) is None
    assert unseal(RING, "garbage", NOW) is None


def test_a_request_sealed_under_another_key_is_refused() -> None:
    assert unseal(RING, seal(KeyRing((b"b" * 32,)), pending()), NOW) is None


def test_a_request_sealed_under_the_previous_key_still_opens_after_rotation() -> None:
    rotated = KeyRing((b"b" * 32, b"a" * 32))
    assert unseal(rotated, seal(RING, pending()), NOW) is not None


def test_every_pending_request_has_its_own_id() -> None:
    assert pending().state_id != pending().state_id
