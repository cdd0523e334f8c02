"""What the rest of Portico may use of sign-in: the only module imported from outside ``oauth.login``.

- :func:`current_user` (a FastAPI dependency): the user of the request's login session, or None.
- :func:`login_redirect`: send the browser to sign in, then back to ``return_to``.
- :func:`user_may_continue`: re-check a user against the access rules (at /authorize and at every
  refresh-token use), so a user removed from the allowed set loses access.
- :func:`find_account`, :func:`accounts_by_email`: a user's stored account (email, IdP groups,
  disabled) by subject or email, e.g. for group-based upstream credentials.
- :func:`list_users`, :func:`users_table`, :func:`disable_user` (:func:`disable_user_reporting`),
  :func:`enable_user`: ``portico users …``.

The composition root alone also mounts the routes (:func:`oauth.login.routes.install_login`);
tests/unit/test_layers.py holds every other package to this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.context import APP_CONTEXT, AppContext
from app.db import run_db
from app.return_to import is_local_path
from oauth.login.session.current import admitted_user, read_login_session, session_user
from oauth.login.session.refresh import schedule_refresh
from oauth.login.store.users import UserRow, find_by_email, find_by_subject
from oauth.login.upstream_idp.prompt import upstream_prompt
from oauth.login.users import (
    AmbiguousEmailError,
    DisabledUser,
    EnabledUser,
    disable_user,
    disable_user_reporting,
    enable_user,
    list_users,
    users_table,
)

__all__ = [
    "AmbiguousEmailError",
    "DisabledUser",
    "EnabledUser",
    "SignedInUser",
    "UserAccount",
    "accounts_by_email",
    "current_user",
    "disable_user",
    "disable_user_reporting",
    "enable_user",
    "find_account",
    "list_users",
    "login_redirect",
    "user_may_continue",
    "users_table",
]


@dataclass(frozen=True)
class SignedInUser:
    """A signed-in user. ``subject`` is stable and is the access token's ``sub``.

    ``subject`` is ``users.subject`` (opaque; ``str(users.id)`` for users older than migration 0009);
    ``email`` is lower-cased; ``login_session_id`` identifies
    this browser's login session (stable across cookie refreshes, new at every sign-in);
    ``signed_in_at`` is when that sign-in happened (epoch seconds; OIDC Core ``auth_time``).
    """

    subject: str
    email: str
    name: str | None
    login_session_id: str
    signed_in_at: int = 0


async def current_user(request: Request) -> SignedInUser | None:
    """The user of this request's login session cookie, or None when absent, invalid or expired.

    None also when the session was ended (sign-out, user disabled), the user row is gone or
    disabled, or the user no longer passes the access rules of the current configuration.
    Reads the database once. Slides the idle timeout: at most once a minute the response gets a
    re-issued cookie (see :mod:`oauth.login.session.refresh`).
    """
    runtime = APP_CONTEXT.of(request)
    login_session = read_login_session(request, runtime)
    if login_session is None:
        return None
    user = await run_db(runtime.db, lambda db: session_user(db, runtime, login_session))
    if user is None:
        return None
    schedule_refresh(request, runtime, login_session)
    return SignedInUser(
        subject=user.subject,
        email=user.email,
        name=user.name,
        login_session_id=login_session.login_session_id,
        signed_in_at=login_session.issued_at,
    )


def login_redirect(return_to: str, *, prompt: str | None = None) -> RedirectResponse:
    """303 to ``/login?return_to=…``; ``return_to`` must be a path on this origin (starts with ``/``).

    ``prompt`` (``login`` or ``select_account``, OIDC Core §3.1.2.1) is passed on to the upstream
    IdP, so that a user with a live session there signs in again (or chooses an account).

    Raises:
        ValueError: ``return_to`` is not a local path (see :func:`app.return_to.is_local_path`).
    """
    if not is_local_path(return_to):
        raise ValueError("return_to must be a local path")
    upstream = upstream_prompt(prompt)
    params = {"return_to": return_to} | ({"prompt": upstream} if upstream else {})
    return RedirectResponse(f"/login?{urlencode(params)}", status_code=303)


async def user_may_continue(runtime: AppContext, subject: str) -> bool:
    """True when the user still exists, is not disabled and still passes the access rules.

    ``subject`` is :attr:`SignedInUser.subject`; a subject no user has gives False.
    The rules are those of ``runtime.config`` now, not those in force at sign-in.
    """
    rules = runtime.config.login
    return await run_db(runtime.db, lambda db: admitted_user(db, rules, subject)) is not None


@dataclass(frozen=True)
class UserAccount:
    """A stored user as other packages see it.

    ``subject`` is :attr:`SignedInUser.subject`; ``groups`` are the IdP groups claim stored at the
    last sign-in (empty when the IdP sent none); ``disabled`` is set by ``portico users disable``;
    ``provider`` is the id of the sign-in provider (``login.providers[].id``) that vouched for the
    account and ``last_sign_in_at`` when it last did (when ``groups`` were stored).
    """

    subject: str
    email: str
    groups: tuple[str, ...]
    disabled: bool
    provider: str = ""
    last_sign_in_at: datetime | None = None


def find_account(db: Session, subject: str) -> UserAccount | None:
    """The account of ``subject``, or None when no user has it."""
    row = find_by_subject(db, subject)
    return _account(row) if row is not None else None


def accounts_by_email(db: Session, email: str) -> list[UserAccount]:
    """Every account with this email (case-insensitive; one per sign-in provider)."""
    return [_account(row) for row in find_by_email(db, email.strip())]


def _account(row: UserRow) -> UserAccount:
    groups = tuple(row.groups or ())
    return UserAccount(row.subject, row.email, groups, bool(row.disabled), row.provider, row.last_sign_in_at)
