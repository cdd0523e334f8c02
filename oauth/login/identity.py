"""What a sign-in provider vouches for about the person who just signed in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UpstreamIdentity:
    """An identity asserted by the upstream IdP named ``provider`` (the configured provider id).

    ``provider_subject`` is the IdP's stable subject (OIDC ``sub``; the email for ``dev``).
    ``email`` is compared case-insensitively everywhere and stored lower-cased.
    """

    provider: str
    provider_subject: str
    email: str
    email_verified: bool
    name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
