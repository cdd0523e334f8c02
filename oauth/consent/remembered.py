"""Consent per (user, client, resource): remembered after approval, revocable.

MCP security best practices ("confused deputy"): a gateway that lets clients register
themselves must obtain the user's consent for each client before issuing it anything.
Revoking consent also revokes the tokens that client holds for the user.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from oauth.grant_tokens import revoke_grants
from oauth.store.consents import ConsentRow, consents_of, delete_consents
from oauth.store.refresh_tokens import families_of_subject
from oauth.tokens.revocation_list import RevokedTokens


def list_consents(db: Session, subject: str) -> list[ConsentRow]:
    return consents_of(db, subject)


def revoke_consent(
    db: Session,
    subject: str,
    client_id: str,
    *,
    now: datetime | None = None,
    revoked_tokens: RevokedTokens | None = None,
) -> None:
    """Forget the user's consent for ``client_id`` (every resource) and revoke that client's grants."""
    delete_consents(db, subject=subject, client_ids=[client_id])
    families = families_of_subject(db, subject, client_id=client_id)
    revoke_grants(db, families, now=now or datetime.now(UTC), revoked_tokens=revoked_tokens)


def revoke_user_grants(
    db: Session, subject: str, *, now: datetime | None = None, revoked_tokens: RevokedTokens | None = None
) -> None:
    """Revoke everything a user granted: consents, refresh-token families, access tokens.

    Call it when a user is disabled or removed. Pass ``revoked_tokens=runtime.revoked_tokens``
    so this process refuses the user's access tokens at once (others learn it at their next start;
    the tokens expire within ``oauth.access_token_lifetime`` anyway).
    """
    delete_consents(db, subject=subject)
    revoke_grants(db, families_of_subject(db, subject), now=now or datetime.now(UTC), revoked_tokens=revoked_tokens)
