"""What the authorization server needs from sign-in.

- :func:`current_user` (a FastAPI dependency): the user of the request's login session, or None.
- :func:`login_redirect`: send the browser to sign in, then back to ``return_to``.
- :func:`user_may_continue`: re-check a user against the access rules (at /authorize and at every
  refresh-token use), so a user removed from the allowed set loses access.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.runtime import Runtime


@dataclass(frozen=True)
class SignedInUser:
    """A signed-in user. ``subject`` is stable and is the access token's ``sub``."""

    subject: str
    email: str
    name: str | None
    login_session_id: str


async def current_user(request: Request) -> SignedInUser | None:
    """The user of this request's login session cookie, or None when absent, invalid or expired."""
    raise NotImplementedError("provided by the sign-in implementation (oauth/login)")


def login_redirect(return_to: str) -> RedirectResponse:
    """303 to ``/login?return_to=…``; ``return_to`` must be a path on this origin (starts with ``/``)."""
    if not return_to.startswith("/") or return_to.startswith("//"):
        raise ValueError("return_to must be a local path")
    return RedirectResponse(f"/login?{urlencode({'return_to': return_to})}", status_code=303)


async def user_may_continue(runtime: Runtime, subject: str) -> bool:
    """True when the user still exists, is not disabled and still passes the access rules."""
    raise NotImplementedError("provided by the sign-in implementation (oauth/login)")
