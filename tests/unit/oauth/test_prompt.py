"""``prompt`` / ``max_age`` parsing and the resumed request after consent (OIDC Core §3.1.2.1)."""

from __future__ import annotations

import pytest

from app.crypto import KeyRing
from app.csrf import CsrfTokens
from oauth.server.prompt import (
    InvalidPromptError,
    Prompt,
    after_consent,
    must_sign_in_again,
    new_marker,
    parse_prompt,
)


def test_values_are_read_space_delimited_and_unknown_ones_ignored() -> None:
    assert parse_prompt("login consent create", None) == Prompt(login=True, consent=True, upstream_prompt="login")
    assert parse_prompt("select_account", "30") == Prompt(login=True, upstream_prompt="select_account", max_age=30)
    assert parse_prompt(None, None) == Prompt()


@pytest.mark.parametrize(("prompt", "max_age"), [("none login", None), ("none x", None), (None, "-1"), (None, "٣")])
def test_none_with_another_value_or_a_bad_max_age_is_refused(prompt: str | None, max_age: str | None) -> None:
    with pytest.raises(InvalidPromptError):
        parse_prompt(prompt, max_age)


def test_a_marker_is_satisfied_only_by_a_sign_in_at_or_after_it_for_the_same_client() -> None:
    csrf = CsrfTokens(KeyRing((b"k" * 32,)))
    marker = new_marker(client_id="c1", now=1000, csrf=csrf)
    login = Prompt(login=True, upstream_prompt="login")

    def again(signed_in_at: int, client_id: str = "c1", now: int = 1010) -> bool:
        return must_sign_in_again(
            login, signed_in_at=signed_in_at, now=now, marker=marker, client_id=client_id, csrf=csrf
        )

    assert again(999)
    assert not again(1000)
    assert again(1005, client_id="c2")
    assert again(1700, now=1700)  # the marker lived 10 minutes


def test_the_resumed_request_drops_only_consent_from_prompt() -> None:
    """Our design: the connect step after approval must not ask for consent again (it would loop)."""
    params = [("client_id", "c"), ("prompt", "consent login"), ("state", "s")]
    assert after_consent(params) == [("client_id", "c"), ("prompt", "login"), ("state", "s")]
    assert after_consent([("prompt", "consent")]) == []
