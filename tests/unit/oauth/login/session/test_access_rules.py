"""The access rules: domains (exact and ``*.`` subdomains), emails, groups, allow_any_user, verification."""

from __future__ import annotations

from typing import Any

import pytest

from app.config.schema import LoginConfig
from oauth.login.session.access_rules import decide_access, domain_allowed, email_domain


def rules(**values: Any) -> LoginConfig:
    return LoginConfig.model_validate(values)


@pytest.mark.parametrize(
    ("allowed_domains", "email", "admitted"),
    [
        (["example.com"], "alice@example.com", True),
        (["example.com"], "ALICE@EXAMPLE.COM", True),
        (["Example.COM"], "alice@example.com", True),
        (["example.com"], "alice@sub.example.com", False),
        (["example.com"], "alice@example.com.evil.net", False),
        (["example.com"], "alice@badexample.com", False),
        (["*.example.com"], "alice@sub.example.com", True),
        (["*.example.com"], "alice@deep.sub.example.com", True),
        (["*.Example.com"], "alice@SUB.example.COM", True),
        (["*.example.com"], "alice@example.com", False),
        (["*.example.com"], "alice@badexample.com", False),
        (["*.example.com"], "alice@.example.com", False),
        (["*.example.com", "example.com"], "alice@example.com", True),
        (["example.com"], "example.com", False),
        (["example.com"], "alice@other.com@example.com", True),
    ],
)
def test_allowed_domains_match_exactly_or_by_subdomain_wildcard(
    allowed_domains: list[str], email: str, admitted: bool
) -> None:
    """Our choice: a ``*.`` entry admits subdomains at any depth and never the bare domain."""
    decision = decide_access(rules(allowed_domains=allowed_domains), email=email, email_verified=True)
    assert decision.admitted is admitted


def test_refusal_by_domain_names_the_domain_and_the_rule() -> None:
    decision = decide_access(rules(allowed_domains=["example.com"]), email="alice@other.com", email_verified=True)
    assert not decision.admitted
    assert decision.rules == ("login.allowed_domains",)
    assert decision.reason == "alice@other.com: domain other.com is not in login.allowed_domains"


def test_refusal_never_lists_the_allowed_values() -> None:
    decision = decide_access(
        rules(allowed_domains=["secret-corp.com"], allowed_emails=["boss@secret-corp.com"], allowed_groups=["admins"]),
        email="mallory@other.com",
        email_verified=True,
    )
    assert "secret-corp" not in decision.reason and "admins" not in decision.reason


@pytest.mark.parametrize(
    ("email", "admitted"),
    [("bob@partner.org", True), ("BOB@Partner.ORG", True), ("bobby@partner.org", False), ("bob@partner.org.x", False)],
)
def test_allowed_emails_match_the_whole_address_case_insensitively(email: str, admitted: bool) -> None:
    decision = decide_access(rules(allowed_emails=["Bob@partner.org"]), email=email, email_verified=True)
    assert decision.admitted is admitted


def test_allowed_groups_admit_a_member_of_any_listed_group() -> None:
    config = rules(allowed_groups=["admins", "staff"])
    assert decide_access(config, email="a@x.com", email_verified=True, groups=["users", "staff"]).admitted
    assert not decide_access(config, email="a@x.com", email_verified=True, groups=["users"]).admitted
    assert not decide_access(config, email="a@x.com", email_verified=True).admitted


def test_any_one_admitting_rule_suffices() -> None:
    config = rules(allowed_domains=["example.com"], allowed_emails=["bob@partner.org"], allowed_groups=["ops"])
    by_email = decide_access(config, email="bob@partner.org", email_verified=True)
    by_group = decide_access(config, email="carol@else.net", email_verified=True, groups=["ops"])
    assert (by_email.admitted, by_email.rules) == (True, ("login.allowed_emails",))
    assert (by_group.admitted, by_group.rules) == (True, ("login.allowed_groups",))


def test_refusal_by_several_rules_names_each_of_them() -> None:
    config = rules(allowed_domains=["example.com"], allowed_emails=["bob@partner.org"], allowed_groups=["ops"])
    decision = decide_access(config, email="eve@evil.net", email_verified=True)
    assert decision.rules == ("login.allowed_domains", "login.allowed_emails", "login.allowed_groups")
    assert decision.reason.startswith("eve@evil.net: domain evil.net is not in login.allowed_domains; ")


def test_allow_any_user_admits_everyone_verified() -> None:
    decision = decide_access(rules(allow_any_user=True), email="anyone@anywhere.io", email_verified=True)
    assert (decision.admitted, decision.rules) == (True, ("login.allow_any_user",))


@pytest.mark.parametrize(
    "config",
    [
        {"allowed_domains": ["example.com"]},
        {"allowed_emails": ["alice@example.com"]},
        {"allowed_groups": ["staff"]},
        {"allow_any_user": True},
    ],
)
def test_an_unverified_email_is_refused_whatever_the_rules(config: dict[str, Any]) -> None:
    """Our choice: domain and email rules mean nothing for an address nobody verified."""
    decision = decide_access(rules(**config), email="alice@example.com", email_verified=False, groups=["staff"])
    assert (decision.admitted, decision.rules) == (False, ("email_verified",))


def test_no_rule_at_all_admits_nobody() -> None:
    decision = decide_access(rules(), email="alice@example.com", email_verified=True)
    assert not decision.admitted


@pytest.mark.parametrize(
    ("email", "domain"),
    [("a@Example.COM", "example.com"), ("a@b@c.org", "c.org"), ("nodomain", ""), ("@example.com", "")],
)
def test_email_domain_is_the_lower_cased_part_after_the_last_at(email: str, domain: str) -> None:
    assert email_domain(email) == domain


@pytest.mark.parametrize("domain", ["", ".example.com", "a..example.com"])
def test_malformed_domains_are_never_allowed(domain: str) -> None:
    assert not domain_allowed(domain, ["*.example.com", "example.com", ".example.com"])


def test_the_domain_the_idp_vouches_for_wins_over_the_email_text() -> None:
    """Issue rule: Google's domain is hd; a consumer account ("" domain) is never admitted by a domain rule."""
    config = rules(allowed_domains=["example.com"])
    consumer = decide_access(config, email="alice@example.com", email_verified=True, domain="")
    assert (consumer.admitted, consumer.rules) == (False, ("login.allowed_domains",))
    assert "no organisation domain" in consumer.reason
    workspace = decide_access(config, email="alice@personal.example", email_verified=True, domain="Example.com")
    assert workspace.admitted


def test_allowed_orgs_admit_members_case_insensitively_and_name_the_rule_when_refusing() -> None:
    config = rules(allowed_orgs=["Acme-Corp"])
    assert decide_access(config, email="a@x.com", email_verified=True, orgs=["other", "acme-corp"]).admitted
    refused = decide_access(config, email="a@x.com", email_verified=True, orgs=["other"])
    assert (refused.admitted, refused.rules) == (False, ("login.allowed_orgs",))


def test_an_unverified_email_passes_only_for_a_provider_that_allows_it_explicitly() -> None:
    provider = {"type": "github", "id": "gh", "client_id": "c", "client_secret": "s"}
    config = rules(
        providers=[provider, {**provider, "id": "gh-lax", "insecure_allow_unverified_email": True}],
        allowed_domains=["example.com"],
    )
    for provider_id, admitted in (("gh", False), ("gh-lax", True), ("gone", False), (None, False)):
        decision = decide_access(config, email="a@example.com", email_verified=False, provider=provider_id)
        assert decision.admitted is admitted, provider_id
