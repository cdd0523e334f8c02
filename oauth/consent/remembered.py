"""Consent per (user, client, resource): remembered after approval, revocable.

MCP security best practices ("confused deputy"): a gateway that lets clients register
themselves must obtain the user's consent for each client before issuing it anything.
Revoking consent also revokes the tokens that client holds for the user.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from oauth.grant_tokens import RevokedGrants, forget_revoked, revoke_grants
from oauth.store.consents import ConsentRow, consents_of, delete_consents
from oauth.store.issued_access_tokens import revoke_subject_access_tokens
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
) -> RevokedGrants:
    """Revoke everything a user granted: consents, refresh-token families, access tokens; say what.

    Call it when a user is disabled or removed. Pass ``revoked_tokens=runtime.revoked_tokens``
    so this process refuses the user's access tokens at once; the revoked access tokens are also
    appended to ``revocation_events``, from which every running process learns them within seconds
    (ADR 0009). Access tokens whose refresh family was already purged are revoked by subject.
    """
    now = now or datetime.now(UTC)
    delete_consents(db, subject=subject)
    revoked = revoke_grants(db, families_of_subject(db, subject), now=now, revoked_tokens=revoked_tokens)
    stray = revoke_subject_access_tokens(db, subject, now)
    forget_revoked(stray, revoked_tokens)
    return RevokedGrants(revoked.grants, revoked.refresh_tokens, revoked.access_tokens + len(stray))
