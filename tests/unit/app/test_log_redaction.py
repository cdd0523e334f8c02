"""Credentials never reach the log output, whatever the level or logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from app.log import JsonFormatter, RedactionFilter, register_secret

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("template", "args", "secret"),
    [
        ("headers: %s", ({"Authorization": "Bearer abc.def.ghi-token"},), "abc.def.ghi-token"),
        ("GET %s", ("/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz123state",), "SplxlOBeZQQYbYS6WxSbIA"),
        ("GET %s", ("/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz123state",), "xyz123state"),
        (
            "form %s",
            ("grant_type=authorization_code&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r",),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r",
        ),
        ("body %s", ('{"client_secret": "s3cr3t-value-here", "x": 1}',), "s3cr3t-value-here"),
        ("body %s", ('{"refresh_token":"rt-0123456789abcdef"}',), "rt-0123456789abcdef"),
        ("token %s", (JWT,), JWT),
        ("cookie: %s", ("__Host-portico=abcdef0123456789",), "abcdef0123456789"),
        ("basic %s", ("Authorization: Basic dXNlcjpwYXNz",), "dXNlcjpwYXNz"),
    ],
)
def test_credentials_are_redacted_at_every_level(
    captured: tuple[logging.Logger, io.StringIO], template: str, args: tuple[object, ...], secret: str
) -> None:
    logger, stream = captured
    for level in (logging.DEBUG, logging.INFO, logging.ERROR):
        logger.log(level, template, *args)
    assert secret not in stream.getvalue()
    assert stream.getvalue().count("[REDACTED]") >= 3


def test_registered_upstream_credential_is_redacted_anywhere_in_a_message(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    register_secret("glpat-upstream-credential-xyz")
    logger.warning("upstream said: invalid key glpat-upstream-credential-xyz for user")
    assert "glpat-upstream-credential-xyz" not in stream.getvalue()


def test_exception_text_is_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        logger.exception("failed")
    assert JWT not in stream.getvalue()
    assert "ValueError" in stream.getvalue()


def test_ordinary_messages_are_untouched(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("server %s started on port %d", "github", 8080)
    assert "server github started on port 8080" in stream.getvalue()
