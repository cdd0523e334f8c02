"""CSRF tokens are bound to a session and a purpose, expire, and survive key rotation."""

from __future__ import annotations

from app.crypto import KeyRing
from app.csrf import CsrfTokens

OLD, NEW = b"o" * 32, b"n" * 32


def test_token_verifies_for_its_binding_and_purpose() -> None:
    tokens = CsrfTokens(KeyRing((NEW,)))
    token = tokens.issue(binding="session-1", purpose="consent", now=1000)
    assert tokens.verify(token, binding="session-1", purpose="consent", now=1001)


def test_token_is_refused_for_another_session_or_purpose() -> None:
    tokens = CsrfTokens(KeyRing((NEW,)))
    token = tokens.issue(binding="session-1", purpose="consent", now=1000)
    assert not tokens.verify(token, binding="session-2", purpose="consent", now=1001)
    assert not tokens.verify(token, binding="session-1", purpose="connections", now=1001)


def test_expired_or_future_or_malformed_tokens_are_refused() -> None:
    tokens = CsrfTokens(KeyRing((NEW,)))
    token = tokens.issue(binding="s", purpose="p", now=1000)
    assert not tokens.verify(token, binding="s", purpose="p", now=1000 + 601)
    assert not tokens.verify(token, binding="s", purpose="p", now=999)
    for bad in ("", "abc", "1000.", "x.y", token + "0"):
        assert not tokens.verify(bad, binding="s", purpose="p", now=1001)


def test_token_signed_before_rotation_still_verifies() -> None:
    token = CsrfTokens(KeyRing((OLD,))).issue(binding="s", purpose="p", now=1000)
    assert CsrfTokens(KeyRing((NEW, OLD))).verify(token, binding="s", purpose="p", now=1001)
    assert not CsrfTokens(KeyRing((NEW,))).verify(token, binding="s", purpose="p", now=1001)
