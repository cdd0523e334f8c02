"""Sealer encryption (AES-256-GCM) bound to owner and purpose, with key rotation."""

from __future__ import annotations

import base64

import pytest

from app.crypto import DecryptionError, KeyRing, Sealer
from app.crypto.keyring import Purpose

OLD, NEW = b"o" * 32, b"n" * 32
OWNER = "user:42|server:github|kind:oauth"


def test_round_trip_returns_the_plaintext() -> None:
    sealer = Sealer(KeyRing((NEW,)))
    assert sealer.decrypt(sealer.encrypt(b"ghp_token", associated_data=OWNER), associated_data=OWNER) == b"ghp_token"


def test_ciphertexts_differ_for_equal_plaintexts() -> None:
    sealer = Sealer(KeyRing((NEW,)))
    assert sealer.encrypt(b"x", associated_data=OWNER) != sealer.encrypt(b"x", associated_data=OWNER)


def test_value_copied_to_another_owner_fails_to_decrypt() -> None:
    sealer = Sealer(KeyRing((NEW,)))
    sealed = sealer.encrypt(b"ghp_token", associated_data=OWNER)
    with pytest.raises(DecryptionError):
        sealer.decrypt(sealed, associated_data="user:43|server:github|kind:oauth")


def test_tampered_ciphertext_fails_to_decrypt() -> None:
    sealer = Sealer(KeyRing((NEW,)))
    version, kid, body = sealer.encrypt(b"ghp_token", associated_data=OWNER).split(".")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        sealer.decrypt(f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).decode()}", associated_data=OWNER)


@pytest.mark.parametrize("garbage", ["", "v1", "v1.nokid.AAAA", "v9.x.y", "v1.{kid}.not base64!"])
def test_malformed_values_raise_decryption_error(garbage: str) -> None:
    sealer = Sealer(KeyRing((NEW,)))
    with pytest.raises(DecryptionError):
        sealer.decrypt(garbage.format(kid=KeyRing((NEW,)).current_key_id), associated_data=OWNER)


def test_value_written_under_an_old_key_decrypts_after_rotation() -> None:
    sealed = Sealer(KeyRing((OLD,))).encrypt(b"ghp_token", associated_data=OWNER)
    rotated = Sealer(KeyRing((NEW, OLD)))
    assert rotated.decrypt(sealed, associated_data=OWNER) == b"ghp_token"
    assert rotated.needs_rewrap(sealed)
    assert not rotated.needs_rewrap(rotated.encrypt(b"x", associated_data=OWNER))


def test_value_written_under_a_dropped_key_no_longer_decrypts() -> None:
    sealed = Sealer(KeyRing((OLD,))).encrypt(b"ghp_token", associated_data=OWNER)
    with pytest.raises(DecryptionError):
        Sealer(KeyRing((NEW,))).decrypt(sealed, associated_data=OWNER)


def test_each_purpose_gets_a_distinct_derived_key() -> None:
    ring = KeyRing((NEW,))
    keys = {ring.current(p) for p in Purpose}
    assert len(keys) == len(Purpose)
    assert NEW not in keys
