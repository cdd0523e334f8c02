"""Signing in: apply the access rules, record the user, start a login session.

Every provider ends its flow here with an :class:`UpstreamIdentity`. A refused identity leaves
no trace in the database: no user row is created or updated and no session is started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import epoch_seconds, from_epoch
from app.context import AppContext
from app.db import run_db
from app.observe.auth_events import auth_event, publish
from oauth.login.session.access_rules import AccessDecision, decide_access
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.login_session import LoginSession, new_login_session
from oauth.login.store.login_sessions import add_login_session, end_login_session, purge_expired_sessions
from oauth.login.store.users import UserRow, find_by_provider_subject, new_subject

log = logging.getLogger("portico.login")


@dataclass(frozen=True)
class SignInOutcome:
    """``login_session`` is set exactly when ``decision.admitted``."""

    decision: AccessDecision
    login_session: LoginSession | None = None
    subject: str | None = None  # the admitted user's subject


async def sign_in(runtime: AppContext, identity: UpstreamIdentity, *, replacing: str | None = None) -> SignInOutcome:
    """Admit or refuse ``identity``; when admitted, upsert its user and start a new login session.

    ``replacing`` is the browser's previous ``login_session_id``, ended on success.
    """
    decision = decide_access(
        runtime.config.login,
        email=identity.email,
        email_verified=identity.email_verified,
        groups=identity.groups,
        orgs=identity.orgs,
        domain=identity.domain,
        provider=identity.provider,
    )
    if not decision.admitted:
        log.info("sign-in refused (provider %s, rules %s)", identity.provider, ", ".join(decision.rules))
        _publish(runtime, identity, SignInOutcome(decision))
        return SignInOutcome(decision)
    outcome = await run_db(runtime.db, lambda db: _admit(db, runtime, identity, decision, replacing))
    if outcome.login_session is not None:
        log.info("user %s signed in (provider %s)", outcome.login_session.user_id, identity.provider)
    _publish(runtime, identity, outcome)
    return outcome


def _publish(runtime: AppContext, identity: UpstreamIdentity, outcome: SignInOutcome) -> None:
    """``sign_in`` (the rule that admitted) or ``sign_in_refused`` (the rules that refused, or ``disabled``)."""
    admitted = outcome.login_session is not None
    event = auth_event(
        "sign_in" if admitted else "sign_in_refused",
        outcome="ok" if admitted else "refused",
        subject=outcome.subject,
        email=identity.email.strip().lower(),
        reason=",".join(outcome.decision.rules)[:255] or None,
        provider=identity.provider,
    )
    publish(runtime.events, [event])


def _admit(
    db: Session, runtime: AppContext, identity: UpstreamIdentity, decision: AccessDecision, replacing: str | None
) -> SignInOutcome:
    existing = find_by_provider_subject(db, provider=identity.provider, provider_subject=identity.provider_subject)
    if existing is not None and existing.disabled:
        log.info("sign-in refused for disabled user %s", existing.id)
        return SignInOutcome(
            AccessDecision(False, ("disabled",), f"{identity.email.lower()}: this account is disabled"),
            subject=existing.subject,
        )
    now = runtime.clock.now()
    user = _upsert_user(db, existing, identity, now=now)
    if replacing:
        end_login_session(db, replacing)
    purge_expired_sessions(db, now)
    login_session = new_login_session(user.id, epoch_seconds(now))
    expires_at = from_epoch(login_session.expires_at(runtime.config.login))
    add_login_session(
        db, login_session_id=login_session.login_session_id, user_id=user.id, now=now, expires_at=expires_at
    )
    return SignInOutcome(decision, login_session, user.subject)


def _upsert_user(db: Session, existing: UserRow | None, identity: UpstreamIdentity, *, now: datetime) -> UserRow:
    user = existing or _insert_user(db, identity, now)
    user.email = identity.email.strip().lower()
    user.email_verified = identity.email_verified
    user.name = identity.name
    user.groups = list(identity.groups)
    user.orgs = list(identity.orgs)
    user.domain = identity.domain
    user.last_sign_in_at = now
    db.flush()
    return user


def _insert_user(db: Session, identity: UpstreamIdentity, now: datetime) -> UserRow:
    row = UserRow(
        subject=new_subject(),
        provider=identity.provider,
        provider_subject=identity.provider_subject,
        email=identity.email.strip().lower(),
        email_verified=identity.email_verified,
        name=identity.name,
        groups=list(identity.groups),
        orgs=list(identity.orgs),
        domain=identity.domain,
        disabled=False,
        first_sign_in_at=now,
        last_sign_in_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # A concurrent first sign-in of the same identity inserted it first.
        winner = find_by_provider_subject(db, provider=identity.provider, provider_subject=identity.provider_subject)
        if winner is None:
            raise
        return winner
    return row
