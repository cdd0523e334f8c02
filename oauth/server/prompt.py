"""``prompt`` and ``max_age`` at the authorization endpoint (OpenID Connect Core 1.0 §3.1.2.1).

- ``none``: no page at all. Not signed in, or a sign-in older than ``max_age`` → ``login_required``;
  no remembered consent → ``consent_required``. ``none`` with any other value → ``invalid_request``.
- ``login``: the user signs in again even with a live login session (the upstream IdP is asked
  with ``prompt=login`` and ``max_age=0`` too, see :mod:`oauth.login.upstream_idp.openid`).
- ``select_account``: as ``login`` here (Portico's chooser when several providers are configured);
  the upstream IdP is asked with ``prompt=select_account``.
- ``consent``: the consent page is shown even when consent was remembered.
- other values are ignored (§3.1.2.1 lists the defined ones; RFC 6749 §3.1 ignores unknown ones).
- ``max_age`` (seconds, non-negative integer): a sign-in older than that must be repeated.

A repeated sign-in must not loop: the browser is sent to sign in with a *reauthentication marker*
added to the authorization request it returns to: ``<issued-at>.<hmac>`` (a
:class:`app.csrf.CsrfTokens` token bound to the ``client_id``, valid 10 minutes). The request is
satisfied once the login session began at or after the marker's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from app.csrf import CsrfTokens

REAUTHENTICATION_MARKER: Final = "portico_reauth"
MARKER_PURPOSE: Final = "reauthentication"
MARKER_LIFETIME: Final = 600
MAX_MAX_AGE: Final = 10**9


class InvalidPromptError(ValueError):
    """``prompt`` or ``max_age`` is malformed: answered ``invalid_request`` (OIDC Core §3.1.2.6)."""


@dataclass(frozen=True)
class Prompt:
    """What the client asked for. ``upstream_prompt`` is what the upstream IdP is asked for (or None)."""

    none: bool = False
    login: bool = False
    consent: bool = False
    upstream_prompt: str | None = None
    max_age: int | None = None

    @property
    def checks_sign_in_time(self) -> bool:
        return self.login or self.max_age is not None


def parse_prompt(prompt: str | None, max_age: str | None) -> Prompt:
    """The space-delimited ``prompt`` and the ``max_age`` of an authorization request.

    Raises:
        InvalidPromptError: ``none`` with another value; ``max_age`` not a non-negative integer.
    """
    values = set(prompt.split(" ")) - {""} if prompt else set()
    if "none" in values and len(values) > 1:
        raise InvalidPromptError("prompt=none cannot be combined with other values")
    upstream = "login" if "login" in values else ("select_account" if "select_account" in values else None)
    return Prompt(
        none="none" in values,
        login=upstream is not None,
        consent="consent" in values,
        upstream_prompt=upstream,
        max_age=_max_age(max_age),
    )


def _max_age(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_MAX_AGE:
        raise InvalidPromptError("max_age must be a non-negative number of seconds")
    return int(value)


def must_sign_in_again(
    prompt: Prompt, *, signed_in_at: int, now: int, marker: str | None, client_id: str, csrf: CsrfTokens
) -> bool:
    """True when the signed-in user must sign in again for this request (``login``, or ``max_age`` exceeded).

    ``signed_in_at`` and ``now`` are epoch seconds; ``marker`` is the request's reauthentication marker.
    """
    if not prompt.checks_sign_in_time:
        return False
    since = _marker_time(marker, client_id=client_id, now=now, csrf=csrf)
    if since is not None and signed_in_at >= since:
        return False
    if prompt.login:
        return True
    return prompt.max_age is not None and now - signed_in_at > prompt.max_age


def new_marker(*, client_id: str, now: int, csrf: CsrfTokens) -> str:
    """A reauthentication marker issued at ``now`` for ``client_id``."""
    return csrf.issue(binding=client_id, purpose=MARKER_PURPOSE, now=now)


def _marker_time(marker: str | None, *, client_id: str, now: int, csrf: CsrfTokens) -> int | None:
    if not marker:
        return None
    if not csrf.verify(marker, binding=client_id, purpose=MARKER_PURPOSE, max_age=MARKER_LIFETIME, now=now):
        return None
    return int(marker.partition(".")[0])


def after_consent(params: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The authorization request to resume once the user approved it: ``consent`` removed from ``prompt``.

    A step between approval and the code (the connect page) sends the browser back to /authorize;
    the consent this request asked for has just been given, so asking again would loop.
    """
    resumed = []
    for name, value in params:
        if name == "prompt":
            value = " ".join(part for part in value.split(" ") if part and part != "consent")
            if not value:
                continue
        resumed.append((name, value))
    return resumed
