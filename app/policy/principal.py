"""Who is asking: the signed-in user behind an access token, and the client acting for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The subject of a policy decision.

    ``subject`` is the token's ``sub``; ``email`` the user's email (None when unknown); ``groups``
    the IdP groups stored at the user's last sign-in; ``client_id`` the OAuth client acting for the
    user (a registered ``client_id`` or a Client ID Metadata Document URL).
    """

    subject: str
    email: str | None
    groups: tuple[str, ...]
    client_id: str

    @property
    def domain(self) -> str | None:
        """The email's domain, lower-cased (None without an email)."""
        if not self.email or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1].lower()
