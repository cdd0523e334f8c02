"""The authorization response at the redirect URI: the flow claimed once, then the code checked out.

Both of Portico's client flows end here — sign-in at an upstream IdP and connecting a user's
account at an upstream server:

1. :func:`claim_flow`: the flow named by ``state``, opened from this browser's cookie for this
   binding (:func:`~oauth.client.flow.open_flow`), unexpired, is spent in ``used_states``
   (RFC 6749 §10.12: a replayed or forged callback is refused).
2. :func:`authorization_code`: an ``iss`` parameter, when present, must name the expected
   authorization server (RFC 9207 §2.4); an ``error`` is reported as sent (RFC 6749 §4.1.2.1);
   otherwise the response must carry a ``code`` (§4.1.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from app.clock import from_epoch
from app.db import run_db
from app.used_states import spend_state
from oauth.client.errors import AuthorizationResponseError, FlowStateError
from oauth.client.flow import UpstreamFlow


async def claim_flow(db: sessionmaker[Session], flow: UpstreamFlow | None, *, what: str) -> UpstreamFlow:
    """``flow`` (as :func:`~oauth.client.flow.open_flow` found it in this browser's cookie), spent once.

    ``what`` names the flow in the error (e.g. ``"sign-in"``); it is logged, never shown.

    Raises:
        FlowStateError: no such flow in this browser (``flow`` is None), or it was already used.
    """
    if flow is None:
        raise FlowStateError(f"no {what} in flight for this state")
    expires_at = from_epoch(flow.expires_at)
    if not await run_db(db, lambda session: spend_state(session, flow.state_id, expires_at)):
        raise FlowStateError(f"no {what} in flight for this state")
    return flow


def authorization_code(params: Mapping[str, str], accepts_issuer: Callable[[str], bool]) -> str:
    """The ``code`` of an authorization response whose ``iss`` (when sent) ``accepts_issuer`` allows.

    Raises:
        AuthorizationResponseError: another issuer, the authorization server's ``error``, or no code.
    """
    issuer = params.get("iss")
    if issuer is not None and not accepts_issuer(issuer):
        raise AuthorizationResponseError("invalid_request", "the response names another issuer (iss)")
    if "error" in params:
        raise AuthorizationResponseError(params["error"], params.get("error_description"))
    code = params.get("code")
    if not code:
        raise AuthorizationResponseError("invalid_request", "the response carries no code")
    return code
