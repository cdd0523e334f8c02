"""Who may sign in: the ``login`` access rules applied to a verified email, its domain, groups and orgs.

- ``allowed_domains``: the user's domain equals an entry (case-insensitive); an entry
  ``*.example.com`` admits any subdomain of example.com (``a.example.com``, ``b.a.example.com``)
  but not ``example.com`` itself, which must be listed on its own. The domain is the one the
  IdP vouches for: the email's domain, except for Google, where it is the Workspace ``hd`` claim
  (a consumer account has none, and no domain rule admits it, whatever its email reads).
- ``allowed_emails``: the whole address equals an entry (case-insensitive).
- ``allowed_groups``: the user is in at least one listed group (exact, case-sensitive names).
- ``allowed_orgs``: the user is a member of at least one listed GitHub organisation (case-insensitive).
- ``allow_any_user``: everyone is admitted.

Any one rule admitting suffices. Whatever the rules, an email the IdP has not verified is refused,
unless the user's provider sets ``insecure_allow_unverified_email``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.config.schema import LoginConfig


@dataclass(frozen=True)
class AccessDecision:
    """The outcome of the rules for one user.

    ``rules`` names the configuration key(s) that decided: the one that admitted, or every one
    that refused. ``reason`` is a sentence fit for the denial page (it never lists the allowed
    values), e.g. ``"alice@other.com: domain other.com is not in login.allowed_domains"``.
    """

    admitted: bool
    rules: tuple[str, ...]
    reason: str


def decide_access(
    rules: LoginConfig,
    *,
    email: str,
    email_verified: bool,
    groups: Sequence[str] = (),
    orgs: Sequence[str] = (),
    domain: str | None = None,
    provider: str | None = None,
) -> AccessDecision:
    """Apply ``rules`` to a user; pure function, no I/O.

    ``domain`` is the domain the IdP vouches for; None means the email's domain, ``""`` none at
    all. ``provider`` is the user's provider id, which decides whether an unverified email may pass.
    """
    address = email.strip().lower()
    if not email_verified and not allows_unverified_email(rules, provider):
        return AccessDecision(
            False, ("email_verified",), f"{address}: the identity provider has not verified this email"
        )
    if rules.allow_any_user:
        return AccessDecision(True, ("login.allow_any_user",), f"{address}: login.allow_any_user is true")
    refusals: list[tuple[str, str]] = []
    if rules.allowed_domains:
        domain = email_domain(address) if domain is None else domain.strip().lower()
        if domain_allowed(domain, rules.allowed_domains):
            return _admit("login.allowed_domains", f"{address}: domain {domain} is in login.allowed_domains")
        refusals.append(("login.allowed_domains", _domain_refusal(domain)))
    if rules.allowed_emails:
        if address in _lowered(rules.allowed_emails):
            return _admit("login.allowed_emails", f"{address} is in login.allowed_emails")
        refusals.append(("login.allowed_emails", "the address is not in login.allowed_emails"))
    if rules.allowed_groups:
        if set(groups) & set(rules.allowed_groups):
            return _admit("login.allowed_groups", f"{address}: a group is in login.allowed_groups")
        refusals.append(("login.allowed_groups", "no group of this user is in login.allowed_groups"))
    if rules.allowed_orgs:
        if _lowered(orgs) & _lowered(rules.allowed_orgs):
            return _admit("login.allowed_orgs", f"{address}: an organisation is in login.allowed_orgs")
        refusals.append(("login.allowed_orgs", "no organisation of this user is in login.allowed_orgs"))
    if not refusals:
        return AccessDecision(False, ("login",), f"{address}: no access rule is configured, so nobody is admitted")
    return AccessDecision(
        False, tuple(rule for rule, _ in refusals), f"{address}: " + "; ".join(text for _, text in refusals)
    )


def allows_unverified_email(rules: LoginConfig, provider: str | None) -> bool:
    """True when provider ``provider`` is configured with ``insecure_allow_unverified_email: true``."""
    configured = rules.provider(provider) if provider is not None else None
    return bool(getattr(configured, "insecure_allow_unverified_email", False))


def email_domain(email: str) -> str:
    """The lower-cased part after the last ``@`` (empty when there is none)."""
    local, at, domain = email.strip().lower().rpartition("@")
    return domain if at and local else ""


def domain_allowed(domain: str, patterns: Iterable[str]) -> bool:
    """True when ``domain`` matches an entry exactly or is a subdomain of a ``*.`` entry."""
    domain = domain.lower()
    if not domain or domain.startswith(".") or ".." in domain:
        return False
    for pattern in _lowered(patterns):
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]):
                return True
        elif domain == pattern:
            return True
    return False


def _domain_refusal(domain: str) -> str:
    if not domain:
        return "the account has no organisation domain (no Workspace hd), so login.allowed_domains cannot admit it"
    return f"domain {domain} is not in login.allowed_domains"


def _admit(rule: str, reason: str) -> AccessDecision:
    return AccessDecision(True, (rule,), reason)


def _lowered(values: Iterable[str]) -> set[str]:
    return {value.strip().lower() for value in values}
