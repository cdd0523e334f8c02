"""A step between the user's approval and the code: the hook the authorization server offers (our design).

The consent endpoint asks the step installed in :data:`AFTER_APPROVAL`, if any, for a page to
show once the user approved and passed every check, before the code is issued. The data plane
installs one (:class:`proxy.connections.consent_step.ConnectStep`: connect the upstream account
the server needs); the authorization server knows nothing more of it.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request
from fastapi.responses import Response

from app.slots import Slot
from oauth.consent.pending import PendingConsent
from oauth.login.api import SignedInUser


class AfterApproval(Protocol):
    async def page(self, request: Request, user: SignedInUser, pending: PendingConsent) -> Response | None:
        """A page to answer instead of issuing the code now, or None to issue it.

        A step that answers a page must remember the consent itself: the browser later returns to
        ``/authorize`` with the original request, which then issues the code without asking again.
        """
        ...


AFTER_APPROVAL: Slot[AfterApproval] = Slot("after_approval")
"""The installed step (put by ``app.main.create_app``); none: codes are issued at once."""
