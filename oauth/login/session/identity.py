"""What a sign-in provider vouches for about the person who just signed in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UpstreamIdentity:
    """An identity asserted by the upstream IdP named ``provider`` (the configured provider id).

    ``provider_subject`` is the IdP's stable subject (OIDC ``sub``; GitHub's numeric user id; the
    email for ``dev``). ``email`` is compared case-insensitively everywhere and stored lower-cased.
    ``groups`` come from the IdP's groups claim, ``orgs`` are GitHub organisation logins.
    ``domain`` is what ``login.allowed_domains`` matches: None means the email's domain (the IdP
    vouches for the address); Google sets its ``hd`` claim, or ``""`` for an account outside
    Workspace, which no domain rule admits whatever its email text reads.
    """

    provider: str
    provider_subject: str
    email: str
    email_verified: bool
    name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    orgs: tuple[str, ...] = field(default_factory=tuple)
    domain: str | None = None
