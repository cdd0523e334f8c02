"""Resolving a request's login session cookie to a user who may still be signed in.

A cookie counts only when it opens (signature and AES-GCM both verify), has not timed out by
``runtime.clock``, its server-side row is still live, and its user exists, is not disabled and
still passes the access rules of the current configuration.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from app.clock import epoch_seconds
from app.config.schema import LoginConfig
from app.context import AppContext
from app.cookies import LOGIN_SESSION_COOKIE, read_cookie
from oauth.login.session.access_rules import decide_access
from oauth.login.session.codecs import login_codecs
from oauth.login.session.login_session import LoginSession
from oauth.login.store.login_sessions import live_session_user
from oauth.login.store.users import UserRow, find_by_subject


def sealed_login_session(request: Request, runtime: AppContext) -> LoginSession | None:
    """The session the cookie carries when it opens, expired or not (sign-out needs its id)."""
    value = read_cookie(request, runtime.config, LOGIN_SESSION_COOKIE)
    return login_codecs(runtime.keyring).login_session.open(value) if value else None


def read_login_session(request: Request, runtime: AppContext) -> LoginSession | None:
    """The cookie's session when it opens and has not timed out, else None. No database access."""
    login_session = sealed_login_session(request, runtime)
    now = epoch_seconds(runtime.clock.now())
    if login_session is None or login_session.is_expired(now, runtime.config.login):
        return None
    return login_session


def session_user(db: Session, runtime: AppContext, login_session: LoginSession) -> UserRow | None:
    """The session's user when the session row is live and the user may still sign in."""
    user = live_session_user(
        db, login_session_id=login_session.login_session_id, user_id=login_session.user_id, now=runtime.clock.now()
    )
    return user if user is not None and is_admitted(user, runtime.config.login) else None


def admitted_user(db: Session, rules: LoginConfig, subject: str) -> UserRow | None:
    """The user whose ``sub`` is ``subject`` when it exists, is not disabled and passes ``rules``."""
    user = find_by_subject(db, subject)
    return user if user is not None and is_admitted(user, rules) else None


def is_admitted(user: UserRow, rules: LoginConfig) -> bool:
    """Not disabled, and the access rules admit the user as recorded at the last sign-in.

    Email, domain, groups and orgs are those the IdP vouched for at that sign-in (refreshed at
    each sign-in); the rules are the current configuration's.
    """
    if user.disabled:
        return False
    decision = decide_access(
        rules,
        email=user.email,
        email_verified=user.email_verified,
        groups=user.groups,
        orgs=user.orgs or [],
        domain=user.domain,
        provider=user.provider,
    )
    return decision.admitted
