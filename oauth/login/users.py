"""Administering users (``portico users …``): list them, disable one, enable one again.

:func:`disable_user` is the hook the authorization server extends with refresh-token revocation:
it returns the id of the user it disabled (:func:`disable_user_reporting` also says how many login
sessions it ended, for the command's report).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from oauth.login.store.login_sessions import end_user_sessions
from oauth.login.store.users import UserRow, all_users, find_by_email

_TABLE_HEADER = ("ID", "EMAIL", "PROVIDER", "DISABLED", "LAST SIGN-IN")


class AmbiguousEmailError(LookupError):
    """Several users (from different providers) share the email; ``user_ids`` lists them."""

    def __init__(self, email: str, user_ids: list[int]) -> None:
        super().__init__(f"{len(user_ids)} users have the email {email} (ids {', '.join(map(str, user_ids))})")
        self.user_ids = user_ids


def list_users(db: Session) -> list[UserRow]:
    """Every user, oldest first."""
    return all_users(db)


def users_table(users: list[UserRow]) -> str:
    """A plain-text table: id, email, provider, disabled, last sign-in (UTC); a note when empty."""
    if not users:
        return "no users have signed in yet"
    rows = [_TABLE_HEADER] + [
        (
            str(user.id),
            user.email,
            user.provider,
            "yes" if user.disabled else "no",
            user.last_sign_in_at.strftime("%Y-%m-%d %H:%M:%SZ"),
        )
        for user in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


@dataclass(frozen=True)
class DisabledUser:
    """The user :func:`disable_user_reporting` disabled and how many login sessions it ended."""

    user_id: int
    subject: str  # the access token's ``sub`` (revoke grants by this, never by ``user_id``)
    sessions_ended: int


def disable_user(db: Session, email: str) -> int | None:
    """Disable the user with ``email`` (case-insensitive) and end its login sessions.

    Returns the user's id, or None when no user has that email. Idempotent. A disabled user is
    refused at sign-in and by ``current_user`` / ``user_may_continue``.

    Raises:
        AmbiguousEmailError: more than one user has that email.
    """
    disabled = disable_user_reporting(db, email)
    return disabled.user_id if disabled is not None else None


def disable_user_reporting(db: Session, email: str) -> DisabledUser | None:
    """:func:`disable_user`, also returning how many login sessions were ended (same errors)."""
    users = find_by_email(db, email.strip())
    if not users:
        return None
    if len(users) > 1:
        raise AmbiguousEmailError(email.strip().lower(), [user.id for user in users])
    [user] = users
    user.disabled = True
    sessions = end_user_sessions(db, user.id)
    db.flush()
    return DisabledUser(user_id=user.id, subject=user.subject, sessions_ended=sessions)


@dataclass(frozen=True)
class EnabledUser:
    """The user :func:`enable_user` enabled; ``was_disabled`` False when it already was enabled (no change)."""

    user_id: int
    subject: str
    was_disabled: bool


def enable_user(db: Session, email: str) -> EnabledUser | None:
    """Enable again the user with ``email`` (case-insensitive): the reverse of :func:`disable_user`.

    They may sign in again. What disabling revoked stays revoked (login sessions, grants,
    consents): the user signs in and approves their clients anew. None when no user has that email.
    Idempotent.

    Raises:
        AmbiguousEmailError: more than one user has that email.
    """
    users = find_by_email(db, email.strip())
    if not users:
        return None
    if len(users) > 1:
        raise AmbiguousEmailError(email.strip().lower(), [user.id for user in users])
    [user] = users
    was_disabled = bool(user.disabled)
    user.disabled = False
    db.flush()
    return EnabledUser(user_id=user.id, subject=user.subject, was_disabled=was_disabled)
