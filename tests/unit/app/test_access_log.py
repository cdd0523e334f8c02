"""The data plane's lines are dropped from uvicorn's access log; every other line stays."""

from __future__ import annotations

import logging

import pytest

from app.access_log import DataPlaneAccessFilter


def access_record(path: str) -> logging.LogRecord:
    args = ("127.0.0.1:5555", "POST", path, "1.1", 200)
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)


@pytest.mark.parametrize("path", ["/github/mcp", "/github/sse", "/github/sse/messages?session_id=abc"])
def test_data_plane_requests_are_not_access_logged(path: str) -> None:
    assert DataPlaneAccessFilter().filter(access_record(path)) is False


@pytest.mark.parametrize(
    "path", ["/token", "/authorize?client_id=x", "/.well-known/oauth-protected-resource/github/mcp", "/github/mcp/x"]
)
def test_every_other_request_is_still_access_logged(path: str) -> None:
    assert DataPlaneAccessFilter().filter(access_record(path)) is True


def test_records_of_other_shapes_pass() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain message", None, None)
    assert DataPlaneAccessFilter().filter(record) is True
