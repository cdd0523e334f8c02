"""Who a rule is about: its subject entries, matched against a :class:`Principal`.

A rule applies when any one entry matches (entries are alternatives). ``users`` and ``domains``
compare case-insensitively (email addresses and DNS names); a domain matches the email's domain
exactly, not its subdomains. ``groups`` (IdP group names) and ``clients`` (a ``client_id`` or a
Client ID Metadata Document URL) compare exactly.
"""

from __future__ import annotations

from app.config.policy import PolicyRuleConfig
from app.policy.principal import Principal


class Subjects:
    """The compiled subject entries of one rule."""

    __slots__ = ("_clients", "_domains", "_everyone", "_groups", "_users")

    def __init__(self, rule: PolicyRuleConfig) -> None:
        self._everyone = bool(rule.everyone)
        self._users = frozenset(u.strip().lower() for u in rule.users)
        self._domains = frozenset(d.strip().lower() for d in rule.domains)
        self._groups = frozenset(rule.groups)
        self._clients = frozenset(rule.clients)

    def match(self, principal: Principal) -> str | None:
        """The entry that matches ``principal`` (e.g. ``group 'engineering'``), or None."""
        if self._everyone:
            return "everyone"
        email = principal.email.lower() if principal.email else None
        if email is not None and email in self._users:
            return f"user {email!r}"
        domain = principal.domain
        if domain is not None and domain in self._domains:
            return f"domain {domain!r}"
        for group in principal.groups:
            if group in self._groups:
                return f"group {group!r}"
        if principal.client_id in self._clients:
            return f"client {principal.client_id!r}"
        return None
