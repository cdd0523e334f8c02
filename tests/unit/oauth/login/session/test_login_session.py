"""The login session's timeouts and its sealed cookie value."""

from __future__ import annotations

import pytest

from app.config.schema import LoginConfig
from app.crypto import KeyRing
from oauth.login.session.codecs import LOGIN_NONCE_LIFETIME, LoginNonceCodec, LoginSessionCodec, login_codecs
from oauth.login.session.login_session import LoginSession, new_login_session

RULES = LoginConfig(session_idle_seconds=3600, session_absolute_seconds=86400)
OLD, NEW = KeyRing((b"o" * 32,)), KeyRing((b"n" * 32,))
T0 = 1_767_225_600


def test_a_session_lives_until_idle_or_absolute_timeout() -> None:
    session = new_login_session(7, T0)
    assert not session.is_expired(T0 + 3599, RULES)
    assert session.is_expired(T0 + 3600, RULES)
    active = session.seen(T0 + 86000)
    assert not active.is_expired(T0 + 86399, RULES)
    assert active.is_expired(T0 + 86400, RULES)


def test_refresh_is_due_once_last_seen_is_a_minute_old() -> None:
    session = new_login_session(7, T0)
    assert not session.needs_refresh(T0 + 59)
    assert session.needs_refresh(T0 + 60)


def test_cookie_max_age_is_the_nearer_timeout() -> None:
    session = new_login_session(7, T0)
    assert session.cookie_max_age(T0, RULES) == 3600
    assert session.seen(T0 + 85000).cookie_max_age(T0 + 85000, RULES) == 1400


def test_every_sign_in_gets_a_new_random_session_id() -> None:
    assert new_login_session(7, T0).login_session_id != new_login_session(7, T0).login_session_id


def test_sealed_session_opens_to_the_same_session_and_reveals_nothing() -> None:
    codec = LoginSessionCodec(NEW)
    session = LoginSession("sid-abcdef", 42, T0, T0 + 5)
    value = codec.seal(session)
    assert codec.open(value) == session
    assert "sid-abcdef" not in value and "42," not in value
    assert len(value) < 256


def test_a_tampered_or_foreign_cookie_does_not_open() -> None:
    codec = LoginSessionCodec(NEW)
    value = codec.seal(LoginSession("sid", 42, T0, T0))
    flipped = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    assert codec.open(flipped) is None
    assert codec.open(value + "x") is None
    assert codec.open("") is None
    assert codec.open("garbage.value") is None
    assert LoginSessionCodec(OLD).open(value) is None


def test_a_cookie_sealed_before_key_rotation_still_opens() -> None:
    value = LoginSessionCodec(OLD).seal(LoginSession("sid", 42, T0, T0))
    rotated = KeyRing((b"n" * 32, b"o" * 32))
    assert LoginSessionCodec(rotated).open(value) == LoginSession("sid", 42, T0, T0)


def test_nonce_opens_only_within_its_lifetime_and_unaltered() -> None:
    codec = LoginNonceCodec(NEW)
    nonce, value = codec.issue(T0)
    assert codec.open(value, T0 + LOGIN_NONCE_LIFETIME) == nonce
    assert codec.open(value, T0 + LOGIN_NONCE_LIFETIME + 1) is None
    assert codec.open(value, T0 - 1) is None
    assert codec.open(value[:-1], T0) is None
    assert codec.open(None, T0) is None


def test_nonce_and_session_values_are_not_interchangeable() -> None:
    _nonce, nonce_value = LoginNonceCodec(NEW).issue(T0)
    assert LoginSessionCodec(NEW).open(nonce_value) is None


def test_codecs_are_built_once_per_key_ring() -> None:
    assert login_codecs(NEW) is login_codecs(NEW)
    assert login_codecs(NEW) is not login_codecs(OLD)


@pytest.mark.parametrize(
    "payload", [b"[]", b'{"a":1}', b'["sid",1,2]', b'["",1,2,3]', b'["sid","1",2,3]', b'["sid",true,2,3]', b"nope"]
)
def test_malformed_plaintext_does_not_open(payload: bytes) -> None:
    codec = LoginSessionCodec(NEW)
    sealed = codec._sealer.encrypt(payload, associated_data="login-session").rstrip("=")
    assert codec.open(codec._signer.sign(sealed).decode()) is None
