"""What the access policy lets the user do with the requested server, for the consent page (docs/policy.md §Consent).

The policy is decided with the same engine the gateway uses (:mod:`app.policy`), for the user
(their groups as stored at the last sign-in) and the client asking. A server the policy makes
unusable is never offered for approval; for a usable one, the page shows each kind that is
restricted (e.g. ``only tools matching get_*, list_*``), as the rules say it, not as a promise
about what the upstream offers.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.db import run_db
from app.policy.decide import usability
from app.policy.engine import policy_for
from app.policy.principal import Principal
from app.policy.summary import summarize
from oauth.login.api import find_account
from oauth.tokens.context import TokenContext

POLICY_DENIED_DESCRIPTION = "the organization's access policy does not allow this user to use this server"
"""The ``error_description`` of the ``access_denied`` redirect (names no rule)."""


@dataclass(frozen=True)
class ConsentPolicy:
    """``usable``: the server may be approved; ``restrictions``: one sentence per restricted kind.

    ``client_rule``: the refusal came from a rule naming the client (the user may have access
    through another application).
    """

    usable: bool
    restrictions: tuple[str, ...] = ()
    client_rule: bool = False


OPEN = ConsentPolicy(usable=True)


async def consent_policy(
    runtime: TokenContext, *, subject: str, email: str, client_id: str, server: str
) -> ConsentPolicy:
    """The policy for ``subject`` (signed in as ``email``) using ``server`` through ``client_id``.

    Reads the user's stored groups (one database read) unless the policy is open.
    """
    policy = policy_for(runtime.config)
    if policy.is_open:
        return OPEN
    account = await run_db(runtime.db, lambda db: find_account(db, subject))
    groups = account.groups if account is not None else ()
    standing = policy.standing(Principal(subject, email, groups, client_id), server)
    usable = usability(standing)
    if not usable.allowed:
        return ConsentPolicy(usable=False, client_rule=(usable.source.subject or "").startswith("client "))
    return ConsentPolicy(usable=True, restrictions=tuple(s.text for s in summarize(standing) if not s.everything))
