"""The login session: who is signed in at this browser, since when, and when last seen.

Times are whole seconds since the epoch, read from ``runtime.clock``. A session ends when it
has been idle for ``login.session_idle_seconds`` (sliding: ``last_seen`` moves forward at most
once a minute, when the cookie is re-issued) or is older than ``login.session_absolute_seconds``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from app.config.schema import LoginConfig

# Re-issuing the cookie on every request would add a Set-Cookie to each response for nothing.
REFRESH_AFTER_SECONDS = 60


@dataclass(frozen=True)
class LoginSession:
    """The state the login session cookie carries (sealed; see :mod:`oauth.login.session.codecs`)."""

    login_session_id: str
    user_id: int
    issued_at: int
    last_seen: int

    def is_expired(self, now: int, rules: LoginConfig) -> bool:
        """True once idle or absolute timeout has passed (or the times are inconsistent)."""
        if self.last_seen < self.issued_at:
            return True
        idle = now - self.last_seen >= rules.session_idle_seconds
        return idle or now - self.issued_at >= rules.session_absolute_seconds

    def needs_refresh(self, now: int) -> bool:
        """True when ``last_seen`` is more than a minute old (time to slide the idle window)."""
        return now - self.last_seen >= REFRESH_AFTER_SECONDS

    def seen(self, now: int) -> LoginSession:
        """This session with ``last_seen`` moved to ``now``."""
        return replace(self, last_seen=now)

    def cookie_max_age(self, now: int, rules: LoginConfig) -> int:
        """Seconds the browser should keep the cookie: the nearer of the two timeouts, ≥ 0."""
        idle_left = self.last_seen + rules.session_idle_seconds - now
        absolute_left = self.issued_at + rules.session_absolute_seconds - now
        return max(0, min(idle_left, absolute_left))

    def expires_at(self, rules: LoginConfig) -> int:
        """The absolute end of the session (epoch seconds)."""
        return self.issued_at + rules.session_absolute_seconds


def new_login_session(user_id: int, now: int) -> LoginSession:
    """A fresh session with a new random id (never reuse an id across sign-ins: session fixation)."""
    return LoginSession(login_session_id=secrets.token_urlsafe(16), user_id=user_id, issued_at=now, last_seen=now)
