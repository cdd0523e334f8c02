"""Hashes of codes, refresh tokens and client secrets: keyed, constant-time, rotation-proof."""

from __future__ import annotations

from app.crypto import KeyRing
from oauth.token_hashing import hash_matches, token_hash, token_hashes

OLD = KeyRing((b"o" * 32,))
ROTATED = KeyRing((b"n" * 32, b"o" * 32))


def test_the_hash_is_keyed_and_does_not_contain_the_value() -> None:
    stored = token_hash(OLD, "secret-value")
    assert len(stored) == 64 and "secret-value" not in stored
    assert stored != token_hash(KeyRing((b"x" * 32,)), "secret-value")


def test_hashes_made_before_a_secret_key_rotation_still_match() -> None:
    stored = token_hash(OLD, "secret-value")
    assert hash_matches(ROTATED, "secret-value", stored)
    assert stored in token_hashes(ROTATED, "secret-value")


def test_another_value_does_not_match() -> None:
    assert not hash_matches(ROTATED, "other-value", token_hash(OLD, "secret-value"))
