"""``consent_denied``: an authorization refused at consent, by the user or by the access policy (issue #18).

One kind, ``outcome`` always ``refused``; ``reason`` says who refused: ``user`` (Deny on the consent
page), ``policy`` (the access policy makes the server unusable for this user and client, at
``/authorize`` — the 403 page or, for ``prompt=none``, the ``access_denied`` redirect — or when the
answer is re-checked at ``POST /consent``) or ``server_removed`` (the server left the configuration
between page and answer). Details: ``resource``, ``server``, ``step`` (``authorize`` | ``consent``)
and, for a policy refusal from a rule naming the client, ``rule: client``. No rule name, no secret.
"""

from __future__ import annotations

from typing import Literal

from app.observe.auth_events import auth_event
from app.observe.records import AuthEvent

Refuser = Literal["user", "policy", "server_removed"]


def consent_denied(
    *,
    subject: str,
    email: str,
    client_id: str,
    resource: str,
    server: str | None,
    reason: Refuser,
    step: Literal["authorize", "consent"],
    client_rule: bool = False,
) -> AuthEvent:
    """The ``consent_denied`` event of ``subject`` (signed in as ``email``) for ``client_id`` and ``resource``."""
    return auth_event(
        "consent_denied",
        outcome="refused",
        subject=subject,
        email=email,
        client_id=client_id,
        reason=reason,
        resource=resource,
        server=server,
        step=step,
        rule="client" if client_rule else None,
    )
