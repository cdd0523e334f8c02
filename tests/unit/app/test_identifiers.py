"""Subjects and client_ids never begin with '-', so argparse never reads them as options."""

from __future__ import annotations

import secrets

import pytest

from app.identifiers import command_line_safe_token


def test_a_token_that_would_begin_with_a_dash_is_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-leading-dash", "ok-inside"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(draws))
    assert command_line_safe_token(16) == "ok-inside"


def test_tokens_keep_their_length_and_never_begin_with_a_dash() -> None:
    tokens = [command_line_safe_token(16) for _ in range(5000)]
    assert all(len(token) == 22 and not token.startswith("-") for token in tokens)
    assert len(set(tokens)) == len(tokens)
