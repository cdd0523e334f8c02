"""Reading identity claims and GitHub's email list defensively."""

from __future__ import annotations

from typing import Any

import pytest

from oauth.login.upstream_idp.claims import claim_strings, claim_true, plausible_email
from oauth.login.upstream_idp.errors import UnusableIdentityError
from oauth.login.upstream_idp.github import primary_email


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        (False, False),
        ("false", False),
        (1, False),
        (None, False),
        ("yes", False),
    ],
)
def test_only_true_or_the_string_true_counts_as_verified(value: Any, expected: bool) -> None:
    assert claim_true({"email_verified": value}, "email_verified") is expected


def test_groups_may_be_a_list_or_one_string_and_non_strings_are_dropped() -> None:
    assert claim_strings({"groups": ["a", 1, None, "", "b"]}, "groups") == ("a", "b")
    assert claim_strings({"groups": "admins"}, "groups") == ("admins",)
    assert claim_strings({"groups": {"a": 1}}, "groups") == ()
    assert claim_strings({}, "groups") == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("a@b", None),
        ("no-at-sign", None),
        ("@example.com", None),
        ("a b@example.com", None),
        ("a@example.com\n", None),
        ("a@.example.com", None),
        ("x" * 310 + "@example.com", None),
        (None, None),
    ],
)
def test_plausible_email(value: str | None, expected: str | None) -> None:
    assert plausible_email(value) == expected


def email(address: Any, primary: bool = False, verified: bool = True) -> dict[str, Any]:
    return {"email": address, "primary": primary, "verified": verified}


def test_the_primary_address_is_chosen_with_its_own_verification() -> None:
    """Issue rule: the primary address, verified; another verified address does not stand in."""
    assert primary_email([email("a@x.example"), email("B@Y.example", primary=True)]) == ("b@y.example", True)
    assert primary_email([email("a@x.example"), email("b@y.example", True, False)]) == ("b@y.example", False)


@pytest.mark.parametrize("emails", [[], [email("a@x.example")], [email(42, primary=True)], ["a@x.example"]])
def test_no_usable_primary_address_is_an_unusable_identity(emails: list[Any]) -> None:
    with pytest.raises(UnusableIdentityError):
        primary_email(emails)
